"""The integrations API on SQLite and PostgreSQL, with the built-in Slack and Jira providers
checking against fake provider servers on 127.0.0.1."""
import datetime
import logging
import threading

import pytest

from hub.storage.models import Integration

TOKEN = "xoxb-1111-2222-very-secret-token"
NEW_TOKEN = "xoxb-3333-4444-another-secret"
BASE = "/v1/projects/payments/integrations"


@pytest.fixture
def slack(httpserver):
    """A fake Slack API; `answer(body)` sets what auth.test returns."""

    def answer(body, status=200, headers=None):
        httpserver.clear()
        httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(
            body, status=status, headers=headers)

    answer({"ok": True, "team": "Acme", "team_id": "T1", "user": "hubbot", "user_id": "U1", "bot_id": "B1"})
    httpserver.answer = answer
    httpserver.api_base_url = httpserver.url_for("/api")
    return httpserver


def create(hub, slack, name="alerts", token=TOKEN, **extra):
    body = {"name": name, "provider": "slack", "credentials": {"token": token},
            "config": {"api_base_url": slack.api_base_url}} | extra
    return hub.call("POST", BASE, json=body)


def test_create_get_and_record_shape(hub, slack):
    resp = create(hub, slack, tags=["ops", "alerts"], display_name="Alerts", description="Paging")
    assert resp.status_code == 201, resp.json
    rec = resp.json
    assert rec["project"] == "payments" and rec["provider"] == "slack" and rec["auth_type"] == "token"
    assert rec["status"] == "active" and rec["tags"] == ["alerts", "ops"]
    assert rec["credentials"]["fields"] == ["token"] and len(rec["credentials"]["fingerprint"]) >= 32
    assert rec["created_at"].endswith("Z") and rec["last_verification"] is None
    assert TOKEN not in resp.get_data(as_text=True)
    got = hub.call("GET", f"{BASE}/{rec['id']}")
    assert got.status_code == 200 and got.json == rec


@pytest.mark.parametrize("body,field", [
    ({"provider": "nope"}, "provider"),
    ({"auth_type": "carrier-pigeon"}, "auth_type"),
    ({"credentials": {"token": "ghp_wrongprefix"}}, "credentials.token"),
    ({"credentials": {"token": TOKEN, "extra": "x"}}, "credentials.extra"),
    ({"credentials": "not-an-object"}, "credentials"),
    ({"config": {"api_base_url": "not a url"}}, "config.api_base_url"),
    ({"name": "has space"}, "name"),
    ({"display_name": "x" * 101}, "display_name"),
    ({"description": "x" * 501}, "description"),
    ({"colour": "red"}, "colour"),
])
def test_create_invalid_names_the_field(hub, slack, body, field):
    full = {"name": "alerts", "provider": "slack", "credentials": {"token": TOKEN}} | body
    resp = hub.call("POST", BASE, json=full)
    assert resp.status_code == 400, resp.json
    assert resp.content_type == "application/problem+json"
    assert field in resp.json["errors"], resp.json
    assert TOKEN not in resp.get_data(as_text=True)
    assert hub.call("GET", BASE).json["items"] == []


def test_unknown_provider_lists_known_ones(hub):
    resp = hub.call("POST", BASE, json={"name": "a", "provider": "nope", "credentials": {}})
    assert "slack" in resp.json["detail"] and "github" in resp.json["detail"]


def test_duplicate_provider_name_is_409_but_other_provider_may_share_it(hub, slack):
    assert create(hub, slack).status_code == 201
    assert create(hub, slack).status_code == 409
    jira = hub.call("POST", BASE, json={"name": "alerts", "provider": "jira", "credentials": {
        "base_url": "https://acme.atlassian.net", "username": "a@acme.test", "api_token": "tok"}})
    assert jira.status_code == 201, jira.json


def test_concurrent_creates_one_201_one_409(hub, slack):
    results = []
    barrier = threading.Barrier(2)

    def worker():
        client = hub.app.test_client()
        barrier.wait()
        resp = client.post(BASE, json={"name": "race", "provider": "slack", "credentials": {"token": TOKEN}},
                           headers={"Authorization": f"Bearer {hub.owner_secret}"})
        results.append(resp.status_code)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]


def test_create_with_verify(hub, slack):
    ok = hub.call("POST", f"{BASE}?verify=true", json={
        "name": "checked", "provider": "slack", "credentials": {"token": TOKEN},
        "config": {"api_base_url": slack.api_base_url}})
    assert ok.status_code == 201
    assert ok.json["last_verification"]["ok"] is True
    assert ok.json["last_verification"]["identity"]["team_id"] == "T1"
    slack.answer({"ok": False, "error": "invalid_auth"})
    bad = create(hub, slack, name="bad", **{})
    assert bad.status_code == 201  # without ?verify nothing is checked
    refused = hub.call("POST", f"{BASE}?verify=true", json={
        "name": "refused", "provider": "slack", "credentials": {"token": TOKEN},
        "config": {"api_base_url": slack.api_base_url}})
    assert refused.status_code == 400
    assert refused.json["verification"]["error"]["code"] == "invalid_credentials"
    names = [i["name"] for i in hub.call("GET", BASE).json["items"]]
    assert "refused" not in names


def test_permissions_and_visibility(hub, slack):
    rec = create(hub, slack).json
    app_key = hub.make_key(role="app")
    assert hub.call("GET", f"{BASE}/{rec['id']}", key=app_key).status_code == 200
    assert hub.call("PUT", f"{BASE}/{rec['id']}", key=app_key, json={"status": "inactive"}).status_code == 403
    assert hub.call("DELETE", f"{BASE}/{rec['id']}", key=app_key).status_code == 403
    assert hub.call("POST", f"{BASE}/{rec['id']}:verifyConfig", key=app_key).status_code == 403
    assert hub.call("GET", f"{BASE}/{rec['id']}", key=None).status_code == 401
    _, other = hub.make_org("globex", "rockets")
    for method in ("GET", "PUT", "DELETE"):
        resp = hub.call(method, f"{BASE}/{rec['id']}", key=other, json={} if method == "PUT" else None)
        assert resp.status_code == 404
    assert hub.call("GET", f"/v1/projects/rockets/integrations/{rec['id']}", key=other).status_code == 404
    hub.call("POST", "/v1/projects", json={"handle": "billing"})
    assert hub.call("GET", f"/v1/projects/billing/integrations/{rec['id']}").status_code == 404


def test_list_filters_and_paging(hub, slack):
    for i in range(7):
        create(hub, slack, name=f"s{i}", tags=["even"] if i % 2 == 0 else ["odd"])
    hub.call("POST", BASE, json={"name": "j", "provider": "jira", "credentials": {
        "base_url": "https://acme.atlassian.net", "username": "a@acme.test", "api_token": "tok"}})
    assert len(hub.call("GET", f"{BASE}?provider=slack&limit=200").json["items"]) == 7
    assert len(hub.call("GET", f"{BASE}?provider=jira").json["items"]) == 1
    evens = hub.call("GET", f"{BASE}?tag=even").json["items"]
    assert sorted(i["name"] for i in evens) == ["s0", "s2", "s4", "s6"]
    seen, cursor = [], None
    while True:
        page = hub.call("GET", f"{BASE}?limit=3" + (f"&cursor={cursor}" if cursor else "")).json
        seen += [i["name"] for i in page["items"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 8
    assert hub.call("GET", f"{BASE}?status=bogus").status_code == 400


def test_put_semantics(hub, slack):
    rec = create(hub, slack, tags=["a"], display_name="A").json
    url = f"{BASE}/{rec['id']}"
    # Disable and re-enable.
    assert hub.call("PUT", url, json={"status": "inactive"}).json["status"] == "inactive"
    assert hub.call("GET", f"{BASE}?status=inactive").json["items"][0]["id"] == rec["id"]
    again = hub.call("PUT", url, json={"status": "active"}).json
    assert again["status"] == "active" and again["display_name"] == "A" and again["tags"] == ["a"]
    # Omitted fields stay; credentials untouched keep their fingerprint.
    assert again["credentials"]["fingerprint"] == rec["credentials"]["fingerprint"]
    # New credentials change the fingerprint; the same credentials again give the same one.
    rotated = hub.call("PUT", url, json={"credentials": {"token": NEW_TOKEN}}).json
    assert rotated["credentials"]["fingerprint"] != rec["credentials"]["fingerprint"]
    same = hub.call("PUT", url, json={"credentials": {"token": NEW_TOKEN}}).json
    assert same["credentials"]["fingerprint"] == rotated["credentials"]["fingerprint"]
    # Config replaced whole, never merged.
    replaced = hub.call("PUT", url, json={"config": {"api_base_url": slack.api_base_url,
                                                     "default_channel": "#ops"}}).json
    assert replaced["config"] == {"api_base_url": slack.api_base_url, "default_channel": "#ops"}
    replaced = hub.call("PUT", url, json={"config": {"api_base_url": slack.api_base_url}}).json
    assert "default_channel" not in replaced["config"]
    # Provider is immutable; status is active|inactive only.
    resp = hub.call("PUT", url, json={"provider": "github"})
    assert resp.status_code == 400 and "provider" in resp.json["errors"]
    assert hub.call("PUT", url, json={"provider": "slack"}).status_code == 200
    assert hub.call("PUT", url, json={"status": "expired"}).status_code == 400
    # Changing auth_type needs new credentials.
    resp = hub.call("PUT", url, json={"auth_type": "webhook"})
    assert resp.status_code == 400 and "credentials" in resp.json["errors"]
    assert hub.call("PUT", f"{BASE}/nope", json={}).status_code == 404


def test_put_name_conflict_is_409(hub, slack):
    create(hub, slack, name="one")
    two = create(hub, slack, name="two").json
    resp = hub.call("PUT", f"{BASE}/{two['id']}", json={"name": "one"})
    assert resp.status_code == 409
    assert hub.call("GET", f"{BASE}/{two['id']}").json["name"] == "two"


def test_host_change_needs_credentials(hub, slack):
    rec = create(hub, slack).json
    url = f"{BASE}/{rec['id']}"
    resp = hub.call("PUT", url, json={"config": {"api_base_url": "https://attacker.example/api"}})
    assert resp.status_code == 400 and "config.api_base_url" in resp.json["errors"]
    assert hub.call("GET", url).json["config"]["api_base_url"] == slack.api_base_url
    # Through a proposed verification too: the stored token must not travel to a new host.
    resp = hub.call("POST", f"{url}:verifyConfig", json={"config": {"api_base_url": "https://attacker.example/api"}})
    assert resp.status_code == 400
    # With the credentials sent again it is allowed.
    ok = hub.call("PUT", url, json={"config": {"api_base_url": "https://slack.example/api"},
                                    "credentials": {"token": TOKEN}})
    assert ok.status_code == 200 and ok.json["config"]["api_base_url"] == "https://slack.example/api"


def test_verify_stored_records_result_and_expiry(hub, slack):
    rec = create(hub, slack).json
    url = f"{BASE}/{rec['id']}"
    result = hub.call("POST", f"{url}:verifyConfig").json
    assert result["ok"] is True and result["identity"]["team"] == "Acme" and result["error"] is None
    assert {"checked_at", "duration_ms", "scopes", "expires_at"} <= set(result)
    request, _ = slack.log[-1]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert hub.call("GET", url).json["last_verification"] == result

    slack.answer({"ok": False, "error": "token_revoked"})
    revoked = hub.call("POST", f"{url}:verifyConfig")
    assert revoked.status_code == 200 and revoked.json["error"]["code"] == "revoked"
    assert hub.call("GET", url).json["status"] == "expired"
    assert [i["id"] for i in hub.call("GET", f"{BASE}?status=expired").json["items"]] == [rec["id"]]
    # New credentials revive it.
    assert hub.call("PUT", url, json={"credentials": {"token": NEW_TOKEN}}).json["status"] == "active"

    slack.answer({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "30"})
    limited = hub.call("POST", f"{url}:verifyConfig").json
    assert limited["error"]["code"] == "rate_limited" and limited["error"]["retry_after"] == 30
    assert hub.call("GET", url).json["status"] == "active"


def test_verify_proposal_stores_nothing(hub, slack):
    rec = create(hub, slack).json
    url = f"{BASE}/{rec['id']}"
    result = hub.call("POST", f"{url}:verifyConfig", json={"credentials": {"token": NEW_TOKEN}}).json
    assert result["ok"] is True
    request, _ = slack.log[-1]
    assert request.headers["Authorization"] == f"Bearer {NEW_TOKEN}"
    after = hub.call("GET", url).json
    assert after["last_verification"] is None
    assert after["credentials"]["fingerprint"] == rec["credentials"]["fingerprint"]
    # A config-only proposal on the same host uses the stored token.
    hub.call("POST", f"{url}:verifyConfig", json={"config": {"api_base_url": slack.api_base_url,
                                                             "default_channel": "#x"}})
    request, _ = slack.log[-1]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_expires_at_in_the_past_reads_expired(hub, slack):
    past = (datetime.datetime.utcnow() - datetime.timedelta(days=1)).isoformat() + "Z"
    rec = create(hub, slack, expires_at=past).json
    assert rec["status"] == "expired"
    url = f"{BASE}/{rec['id']}"
    revived = hub.call("PUT", url, json={"credentials": {"token": NEW_TOKEN}}).json
    assert revived["status"] == "active" and revived["expires_at"] is None


def test_blocked_address_is_reported_not_called(hub):
    rec = hub.call("POST", BASE, json={"name": "meta", "provider": "slack", "credentials": {"token": TOKEN},
                                       "config": {"api_base_url": "http://169.254.169.254/api"}}).json
    result = hub.call("POST", f"{BASE}/{rec['id']}:verifyConfig").json
    assert result["ok"] is False and result["error"]["code"] == "blocked_address"


def test_delete_removes_record_and_ciphertext(hub, slack):
    rec = create(hub, slack).json
    assert hub.call("DELETE", f"{BASE}/{rec['id']}").status_code == 204
    assert hub.call("GET", f"{BASE}/{rec['id']}").status_code == 404
    assert hub.call("DELETE", f"{BASE}/{rec['id']}").status_code == 404
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        assert Integration.select().where(Integration.id == rec["id"]).count() == 0


def test_copy_across_projects(hub, slack):
    rec = create(hub, slack, tags=["ops"]).json
    hub.call("POST", "/v1/projects", json={"handle": "billing"})
    copy_url = "/v1/projects/billing/integrations/copy"
    body = {"source_project_id": "payments", "source_integration_id": rec["id"]}
    copied = hub.call("POST", copy_url, json=body)
    assert copied.status_code == 201, copied.json
    c = copied.json
    assert c["project"] == "billing" and c["id"] != rec["id"] and c["name"] == "alerts"
    assert c["credentials"]["fingerprint"] == rec["credentials"]["fingerprint"] and c["tags"] == ["ops"]
    # The copy's credentials really open (resealed for the new row): verify calls Slack with them.
    result = hub.call("POST", f"/v1/projects/billing/integrations/{c['id']}:verifyConfig").json
    assert result["ok"] and slack.log[-1][0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert hub.call("POST", copy_url, json=body).status_code == 409
    renamed = hub.call("POST", copy_url, json=body | {"name": "alerts-2"})
    assert renamed.status_code == 201 and renamed.json["name"] == "alerts-2"
    # Project referenced by id works too.
    by_id = hub.call("POST", copy_url, json=body | {"source_project_id": hub.project.id, "name": "alerts-3"})
    assert by_id.status_code == 201
    _, other = hub.make_org("globex", "rockets")
    resp = hub.call("POST", "/v1/projects/rockets/integrations/copy", key=other, json=body)
    assert resp.status_code == 404
    assert hub.call("POST", copy_url, json=body | {"source_integration_id": "nope"}).status_code == 404


def test_copied_ciphertext_onto_another_row_does_not_open(hub, slack):
    a = create(hub, slack, name="a").json
    b = create(hub, slack, name="b", token=NEW_TOKEN).json
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        src = Integration.get_by_id(a["id"])
        Integration.update(credentials_ciphertext=src.credentials_ciphertext,
                           credentials_key_id=src.credentials_key_id).where(Integration.id == b["id"]).execute()
    resp = hub.call("POST", f"{BASE}/{b['id']}:verifyConfig")
    assert resp.status_code == 500  # the seal refuses; no plaintext of a is ever used for b
    assert "do not decrypt" in resp.json["detail"] and b["id"] in resp.json["detail"]
    assert TOKEN not in resp.get_data(as_text=True)


def test_dry_run_verify(hub, slack):
    url = "/v1/providers/slack:verifyConfig"
    ok = hub.call("POST", url, json={"credentials": {"token": TOKEN}, "config": {"api_base_url": slack.api_base_url}})
    assert ok.status_code == 200 and ok.json["ok"] is True
    slack.answer({"ok": False, "error": "invalid_auth"})
    bad = hub.call("POST", url, json={"credentials": {"token": TOKEN}, "config": {"api_base_url": slack.api_base_url}})
    assert bad.status_code == 200 and bad.json["error"]["code"] == "invalid_credentials"
    assert hub.call("POST", url, json={"credentials": {"token": "nope"}}).status_code == 400
    assert hub.call("POST", "/v1/providers/nope:verifyConfig", json={"credentials": {}}).status_code == 404
    member_without_verify = hub.make_key(permissions=["integrations:read"])
    assert hub.call("POST", url, key=member_without_verify, json={"credentials": {"token": TOKEN}}).status_code == 403
    assert hub.call("GET", BASE).json["items"] == []


def test_providers_listing(hub):
    items = hub.call("GET", "/v1/providers").json["items"]
    names = [p["name"] for p in items]
    assert {"slack", "github", "jira"} <= set(names)
    slack = hub.call("GET", "/v1/providers/slack").json
    token_method = next(m for m in slack["auth_methods"] if m["id"] == "token")
    assert token_method["default"] is True
    assert token_method["credentials_schema"]["properties"]["token"]["writeOnly"] is True
    assert slack["package"] and slack["verify_supported"] is True
    assert "parametersMetadata" in slack["config_metadata"]
    assert hub.call("GET", "/v1/providers/nope").status_code == 404
    assert hub.call("GET", "/v1/providers", key=None).status_code == 401


def test_no_plaintext_in_responses_logs_or_database(hub, slack, caplog):
    database_url = hub.app.config["DATABASE_URL"]
    caplog.set_level(logging.DEBUG)
    bodies = []
    rec = create(hub, slack, name="leak").json
    url = f"{BASE}/{rec['id']}"
    for method, path, body in [
        ("GET", url, None), ("GET", BASE, None), ("PUT", url, {"credentials": {"token": NEW_TOKEN}}),
        ("PUT", url, {"credentials": {"token": TOKEN}}), ("POST", f"{url}:verifyConfig", None),
        ("POST", f"{url}:verifyConfig", {"credentials": {"token": NEW_TOKEN}}),
        ("POST", BASE, {"name": "bad", "provider": "slack", "credentials": {"token": "ghp_" + TOKEN}}),
        ("POST", "/v1/providers/slack:verifyConfig", {"credentials": {"token": TOKEN}}),
    ]:
        bodies.append(hub.call(method, path, json=body).get_data(as_text=True))
    slack.answer({"ok": False, "error": "invalid_auth"})
    bodies.append(hub.call("POST", f"{url}:verifyConfig").get_data(as_text=True))
    for secret in (TOKEN, NEW_TOKEN, TOKEN[5:]):
        assert not any(secret in b for b in bodies)
        assert secret not in caplog.text
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        db = hub.app.extensions["hub.db"]
        rows = db.execute_sql("SELECT * FROM integration").fetchall()
    dumped = repr(rows)
    for secret in (TOKEN, NEW_TOKEN):
        assert secret not in dumped and secret.encode().hex() not in dumped
    if database_url.startswith("sqlite"):
        from pathlib import Path
        path = Path(database_url[len("sqlite:///"):])
        for f in path.parent.glob(path.name + "*"):
            data = f.read_bytes()
            assert TOKEN.encode() not in data and NEW_TOKEN.encode() not in data
