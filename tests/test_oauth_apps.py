"""OAuth apps: the org's client registrations. The client secret is sealed and never returned;
names are unique per provider; only keys that reach every project write them; changes audited."""
import pytest

from hub.storage.models import OAuthApp

BODY = {"provider": "slack", "name": "main", "client_id": "cid", "client_secret": "s3cr3t-app-value",
        "scopes": ["chat:write", "user:identity.basic"],
        "redirect_origins": ["https://App.Example.com:443", "http://localhost:3000"],
        "token_url": "https://slack.example.net/api/oauth.v2.access"}


def test_create_read_list_update_delete(hub):
    made = hub.call("POST", "/v1/oauth-apps", json=BODY)
    assert made.status_code == 201, made.json
    app = made.json
    assert "client_secret" not in app and BODY["client_secret"] not in made.get_data(as_text=True)
    assert app["redirect_origins"] == ["https://app.example.com", "http://localhost:3000"]
    assert app["authorize_url"] is None and app["token_url"] == BODY["token_url"]
    assert hub.call("GET", f"/v1/oauth-apps/{app['id']}").json == app
    listed = hub.call("GET", "/v1/oauth-apps?provider=slack").json
    assert [a["id"] for a in listed["items"]] == [app["id"]] and listed["has_more"] is False
    assert hub.call("GET", "/v1/oauth-apps?provider=github").json["items"] == []

    renamed = hub.call("PUT", f"/v1/oauth-apps/{app['id']}", json={"name": "renamed", "scopes": None})
    assert renamed.status_code == 200 and renamed.json["name"] == "renamed"
    assert renamed.json["scopes"] is None
    moved = hub.call("PUT", f"/v1/oauth-apps/{app['id']}",
                     json={"token_url": "https://elsewhere.example.org/token"})
    assert moved.status_code == 400 and "token_url" in moved.json["errors"]
    resent = hub.call("PUT", f"/v1/oauth-apps/{app['id']}", json={
        "token_url": "https://elsewhere.example.org/token", "client_secret": "new-secret"})
    assert resent.status_code == 200 and "new-secret" not in resent.get_data(as_text=True)
    assert hub.call("PUT", f"/v1/oauth-apps/{app['id']}", json={"provider": "github"}).status_code == 400

    actions = [e["action"] for e in hub.call("GET", "/v1/audit-events?limit=200").json["items"]]
    # The refused changes are not on record: they changed nothing.
    assert actions[:3] == ["oauth_app.update", "oauth_app.update", "oauth_app.create"]
    assert hub.call("DELETE", f"/v1/oauth-apps/{app['id']}").status_code == 204
    assert hub.call("GET", f"/v1/oauth-apps/{app['id']}").status_code == 404
    assert hub.call("GET", "/v1/audit-events?action=oauth_app.delete").json["items"][0]["target_id"] == app["id"]


def test_names_are_unique_per_provider_and_input_is_checked(hub):
    assert hub.call("POST", "/v1/oauth-apps", json=BODY).status_code == 201
    taken = hub.call("POST", "/v1/oauth-apps", json=BODY)
    assert taken.status_code == 409 and taken.headers["Content-Type"] == "application/problem+json"
    assert hub.call("POST", "/v1/oauth-apps", json=BODY | {"provider": "github"}).status_code == 201
    for change, field in (({"provider": "nope"}, "provider"),
                          ({"redirect_origins": ["https://a.example.com/path"]}, "redirect_origins.0"),
                          ({"redirect_origins": ["ftp://a.example.com"]}, "redirect_origins.0"),
                          ({"scopes": ["two words"]}, "scopes.0"),
                          ({"token_url": "not a url"}, "token_url"),
                          ({"colour": "blue"}, "colour"),
                          ({"client_secret": ""}, "client_secret")):
        resp = hub.call("POST", "/v1/oauth-apps", json=BODY | {"name": "other"} | change)
        assert resp.status_code == 400, (change, resp.json)
        assert field in resp.json["errors"], (change, resp.json)
    missing = hub.call("POST", "/v1/oauth-apps", json={"provider": "slack"})
    assert missing.status_code == 400 and {"name", "client_id", "client_secret"} <= set(missing.json["errors"])


def test_only_keys_reaching_every_project_write_apps(hub):
    limited = hub.make_key(role="owner", projects=["payments"])
    assert hub.call("POST", "/v1/oauth-apps", key=limited, json=BODY).status_code == 403
    member = hub.make_key(role="member")
    assert hub.call("POST", "/v1/oauth-apps", key=member, json=BODY).status_code == 201
    app_key = hub.make_key(role="app")
    assert hub.call("POST", "/v1/oauth-apps", key=app_key, json=BODY | {"name": "x"}).status_code == 403
    assert hub.call("GET", "/v1/oauth-apps", key=app_key).status_code == 200
    assert hub.call("GET", "/v1/oauth-apps", key=None).status_code == 401
    _, other_secret = hub.make_org("globex", "web")
    assert hub.call("GET", "/v1/oauth-apps", key=other_secret).json["items"] == []


def test_the_client_secret_is_sealed_and_rewrapped(hub):
    app_id = hub.call("POST", "/v1/oauth-apps", json=BODY).json["id"]
    with hub.app.app_context():
        row = OAuthApp.get_by_id(app_id)
        assert BODY["client_secret"].encode() not in bytes(row.client_secret_ciphertext)
        old_key = row.client_secret_key_id
    runner = hub.app.test_cli_runner()
    assert runner.invoke(args=["crypto", "rotate"]).exit_code == 0
    result = runner.invoke(args=["crypto", "rewrap"])
    assert result.exit_code == 0, result.output
    with hub.app.app_context():
        assert OAuthApp.get_by_id(app_id).client_secret_key_id != old_key


@pytest.mark.parametrize("provider", ["slack", "github", "jira"])
def test_the_built_in_providers_declare_oauth(hub, provider):
    described = hub.call("GET", f"/v1/providers/{provider}").json
    method = next(m for m in described["auth_methods"] if m["id"] == "oauth")
    assert set(method["oauth"]["default_scopes"]) <= set(method["oauth"]["scopes"])
    assert method["credentials_schema"]["properties"]["access_token"]["writeOnly"] is True
    assert all("oauth" not in m for m in described["auth_methods"] if m["id"] != "oauth")
