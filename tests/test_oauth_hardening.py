"""What an attacker or an odd provider answer could make of OAuth connections, on SQLite and
PostgreSQL, against the fake providers on loopback: an app's client secret is used only for its
own provider, a provider-given cloud id cannot steer where the token goes, a transient Slack error
does not end a connection, and return_to keeps its fragment apart from the integration id."""
import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from hub.storage.models import Integration
from tests.oauth_helpers import (
    PROJECT,
    RETURN_ORIGIN,
    callback,
    connect,
    events,
    make_oauth_app,
    start,
)


def _past() -> str:
    return (datetime.datetime.now(datetime.timezone.utc)
            - datetime.timedelta(minutes=5)).isoformat()


def test_an_apps_secret_is_never_used_for_another_providers_integration(hub, fake_oauth):
    # A key that may write integrations pastes OAuth credentials naming the org's GitHub app:
    # refreshing them would send GitHub's client secret in Atlassian's manner to wherever the
    # Jira provider's token endpoint is.
    github = fake_oauth("github")
    app = make_oauth_app(hub, github, "github")
    pasted = hub.call("POST", f"{PROJECT}/integrations", json={
        "name": "borrowed", "provider": "jira", "auth_type": "oauth", "credentials": {
            "access_token": "at-1", "refresh_token": "rt-1", "expires_at": _past(),
            "oauth_app_id": app["id"], "api_url": github.api_base_url}})
    assert pasted.status_code == 201, pasted.json
    door = hub.call("GET", f"{PROJECT}/integrations/{pasted.json['id']}/credentials")
    assert door.status_code == 409 and door.json["title"] == "Credentials expired", door.json
    assert github.grants == []  # nothing, and no client secret, reached the app's token endpoint
    assert events(hub, "integration.refresh")[0]["details"]["reason"] == "app_mismatch"


@pytest.mark.parametrize("cloud_id", ["../../oauth/token/accessible-resources?",
                                      "x/../../../steal#", "x" * 101, ""])
def test_a_cloud_id_that_is_no_plain_id_connects_nothing(hub, fake_oauth, cloud_id):
    server = fake_oauth("atlassian")
    server.dialect.cloud_id = cloud_id  # what accessible-resources names
    make_oauth_app(hub, server, "jira")
    started = start(hub, "jira")
    assert started.status_code == 201, started.json
    done = callback(hub, server.consent(started.json["authorize_url"]))
    assert done.status_code == 400, done.get_data(as_text=True)
    assert "site" in done.get_data(as_text=True)
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        assert Integration.select().count() == 0


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable",
                                   "request_timeout", "ratelimited"])
def test_a_transient_slack_error_answered_with_200_does_not_expire_it(hub, fake_oauth,
                                                                        httpserver, error):
    server = fake_oauth("slack", access_ttl=30)  # due for the door's default min_valid of 60
    app = make_oauth_app(hub, server, "slack")
    integration_id = connect(hub, server, "slack")
    # Slack answers its transient failures HTTP 200 with ok: false.
    httpserver.expect_request("/api/oauth.v2.access", method="POST").respond_with_json(
        {"ok": False, "error": error})
    moved = hub.call("PUT", f"/v1/oauth-apps/{app['id']}", json={
        "token_url": httpserver.url_for("/api/oauth.v2.access").replace("localhost", "127.0.0.1"),
        "client_secret": "csecret"})
    assert moved.status_code == 200, moved.json
    door = hub.call("GET", f"{PROJECT}/integrations/{integration_id}/credentials")
    assert door.status_code == 503 and door.json["title"] == "Refresh failed", door.json
    assert len(httpserver.log) == 1
    record = hub.call("GET", f"{PROJECT}/integrations/{integration_id}").json
    assert record["status"] == "active"


def test_return_to_with_a_fragment_gets_the_integration_id_in_its_query(hub, fake_oauth):
    server = fake_oauth("github")
    make_oauth_app(hub, server, "github")
    started = start(hub, "github", return_to=f"{RETURN_ORIGIN}/done?tab=1#installed")
    done = callback(hub, server.consent(started.json["authorize_url"]))
    assert done.status_code == 303, done.get_data(as_text=True)
    location = urlsplit(done.headers["Location"])
    assert location.fragment == "installed" and location.path == "/done"
    query = parse_qs(location.query)
    assert query["tab"] == ["1"] and len(query["integration_id"]) == 1
    assert hub.call("GET", f"{PROJECT}/integrations/{query['integration_id'][0]}").status_code == 200


def test_an_absurd_expires_in_is_no_500(hub, fake_oauth):
    server = fake_oauth("github", access_ttl=10 ** 18)  # beyond what a datetime can hold
    make_oauth_app(hub, server, "github")
    started = start(hub, "github")
    done = callback(hub, server.consent(started.json["authorize_url"]))
    assert done.status_code == 200, done.get_data(as_text=True)
    listed = hub.call("GET", f"{PROJECT}/integrations").json["items"]
    door = hub.call("GET", f"{PROJECT}/integrations/{listed[0]['id']}/credentials")
    assert door.status_code == 200 and door.json["credentials"]["expires_at"].endswith("Z")


def test_the_cli_refreshes_the_others_when_one_row_does_not_open(hub, fake_oauth):
    server = fake_oauth("atlassian", access_ttl=300)
    make_oauth_app(hub, server, "jira")
    broken, fine = connect(hub, server, "jira", name="one"), connect(hub, server, "jira", name="two")
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        Integration.update(credentials_ciphertext=b"\0" * 64).where(
            Integration.id == broken).execute()
    result = hub.app.test_cli_runner().invoke(
        args=["integrations", "refresh", "--within", "10m", "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    body = json.loads(result.stdout)
    by_id = {row["id"]: row for row in body["results"]}
    assert body["due"] == 2 and body["failed"] == 1
    assert by_id[fine]["refreshed"] is True and by_id[broken]["ok"] is False
    assert "do not decrypt" in by_id[broken]["message"]
    assert server.refresh_grants == 1


HOSTILE_RETURN_TO = [
    "//evil.example.net/done", "https:/app.example.com/done", "https:evil.example.net",
    "https://app.example.com@evil.example.net/", "https://app.example.com\\@evil.example.net/",
    "https://evil.example.net\\.app.example.com/", "https://app.example.com%2F@evil.example.net/",
    "javascript://app.example.com/%0aalert(1)", "https://app.example.com\t.evil.example.net/",
    "https://app.example.com:8443/done", "https://xn--pp-8cd.example.com/",
    "https://evil.example.net/?next=https://app.example.com",
    "https://evil.example.net#https://app.example.com", "https://app.example.com./done",
]


def test_a_hostile_return_to_is_refused_or_never_followed(hub, fake_oauth):
    server = fake_oauth("slack")
    make_oauth_app(hub, server, "slack")
    for index, return_to in enumerate(HOSTILE_RETURN_TO):
        started = start(hub, "slack", name=f"n{index}", return_to=return_to)
        if started.status_code == 400:
            assert "return_to" in started.json["errors"], (return_to, started.json)
            continue
        assert started.status_code == 201, (return_to, started.json)
        done = callback(hub, server.consent(started.json["authorize_url"]))
        assert done.status_code == 200 and "Location" not in done.headers, return_to
    # The allowed origin, spelled another way, is followed (and only it).
    started = start(hub, "slack", name="ok", return_to="https://App.Example.com:443/done")
    done = callback(hub, server.consent(started.json["authorize_url"]))
    assert done.status_code == 303 and done.headers["Location"].startswith(
        "https://app.example.com:443/done?integration_id="), done.headers.get("Location")


def test_a_provider_outage_at_the_exchange_is_a_502_not_a_refusal(hub, fake_oauth):
    server = fake_oauth("github")
    make_oauth_app(hub, server, "github")
    started = start(hub, "github")
    location = server.consent(started.json["authorize_url"])
    server.fail_token_requests(1, status=503)
    done = callback(hub, location)
    assert done.status_code == 502, done.get_data(as_text=True)
    assert "HTTP 503" in done.get_data(as_text=True) and "refused" not in done.get_data(as_text=True)
    event = events(hub, "integration.connect")[0]
    assert event["outcome"] == "failed" and event["details"]["reason"] == "http_503"
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        assert Integration.select().count() == 0
