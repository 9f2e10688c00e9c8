"""Refreshing OAuth tokens, against the fake providers, on SQLite and PostgreSQL: the door hands
out a token valid for `min_valid` seconds, one refresh grant serves every concurrent reader, a
refused refresh expires the integration, and `:refresh` and `hub integrations refresh` force it."""
import concurrent.futures
import datetime
import json
import threading

import pytest

from tests.oauth_helpers import KINDS, PROJECT, connect, events, get, make_oauth_app, served


def _door(hub, integration_id, min_valid=None):
    query = f"?min_valid={min_valid}" if min_valid is not None else ""
    return hub.call("GET", f"{PROJECT}/integrations/{integration_id}/credentials{query}")


def _connected(hub, fake_oauth, provider="jira", access_ttl=30):
    # 30 s: due for any read that wants the default 60 s of validity.
    server = fake_oauth(KINDS[provider], access_ttl=access_ttl)
    make_oauth_app(hub, server, provider)
    return server, connect(hub, server, provider)


@pytest.mark.parametrize("provider", ["slack", "github", "jira"])
def test_the_door_refreshes_a_due_token_and_stores_the_rotated_refresh_token(hub, fake_oauth,
                                                                              provider):
    server, integration_id = _connected(hub, fake_oauth, provider)
    before = _door(hub, integration_id, min_valid=0).json["credentials"]
    assert server.refresh_grants == 0  # valid for 30 s: enough for min_valid=0

    after = _door(hub, integration_id).json["credentials"]  # default min_valid=60: due
    assert server.refresh_grants == 1
    assert after["access_token"] != before["access_token"]
    assert after["access_token"] in server.valid_access_tokens
    assert after["refresh_token"] != before["refresh_token"]
    assert after["refresh_token"] in server.valid_refresh_tokens
    assert before["refresh_token"] not in server.valid_refresh_tokens  # spent by the rotation
    if provider == "jira":
        assert after["cloud_id"] == before["cloud_id"] and after["api_url"] == before["api_url"]
    refreshed = events(hub, "integration.refresh")[0]
    assert refreshed["outcome"] == "success" and refreshed["details"]["rotated"] is True
    assert refreshed["target_id"] == integration_id
    assert _door(hub, integration_id, min_valid=0).json["credentials"] == after
    assert server.refresh_grants == 1

    # The verification calls the identity endpoint with a fresh token.
    server.expire_access_tokens()
    checked = hub.call("POST", f"{PROJECT}/integrations/{integration_id}:verifyConfig").json
    assert checked["ok"] is True, checked
    assert server.refresh_grants == 2


def test_min_valid_is_bounded(hub, fake_oauth):
    _, integration_id = _connected(hub, fake_oauth, "slack", access_ttl=7200)
    assert _door(hub, integration_id, min_valid=3601).status_code == 400
    assert _door(hub, integration_id, min_valid=-1).status_code == 400
    assert _door(hub, integration_id, min_valid=3600).status_code == 200
    page = hub.call("GET", f"{PROJECT}/credentials?min_valid=3600")
    assert page.status_code == 200 and len(page.json["items"]) == 1


def test_a_refused_refresh_expires_the_integration_and_the_door_says_to_connect_again(hub, fake_oauth):
    server, integration_id = _connected(hub, fake_oauth, "jira")
    server.revoke_all()
    resp = _door(hub, integration_id)
    assert resp.status_code == 409 and resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json["title"] == "Credentials expired"
    assert "connect" in resp.json["detail"].lower() and "invalid_grant" in resp.json["detail"]
    record = hub.call("GET", f"{PROJECT}/integrations/{integration_id}").json
    assert record["status"] == "expired"
    failed = events(hub, "integration.refresh")[0]
    assert failed["outcome"] == "failed" and failed["details"]["reason"] == "invalid_grant"
    grants = len(server.grants)
    again = _door(hub, integration_id)
    assert again.status_code == 409 and again.json["title"] == "Credentials expired"
    assert len(server.grants) == grants  # a spent grant is not tried again
    assert hub.call("GET", f"{PROJECT}/credentials").json["items"] == []

    # Connecting it again (same provider and name) gives it new tokens: served again.
    assert connect(hub, server, "jira") == integration_id
    served = _door(hub, integration_id)
    assert served.status_code == 200 and served.json["credentials"]["access_token"] in \
        server.valid_access_tokens
    assert hub.call("GET", f"{PROJECT}/integrations/{integration_id}").json["status"] == "active"
    reconnected = events(hub, "integration.connect")[0]
    assert reconnected["details"]["reconnected"] is True and reconnected["outcome"] == "success"


def test_a_provider_outage_changes_nothing_and_answers_503(hub, fake_oauth):
    server, integration_id = _connected(hub, fake_oauth, "github")
    server.fail_token_requests(1, status=503)
    resp = _door(hub, integration_id)
    assert resp.status_code == 503 and resp.headers["Content-Type"] == "application/problem+json"
    assert hub.call("GET", f"{PROJECT}/integrations/{integration_id}").json["status"] == "active"
    assert _door(hub, integration_id).status_code == 200
    assert server.refresh_grants == 1


def test_refresh_forces_one_and_is_for_oauth_integrations_only(hub, fake_oauth):
    server, integration_id = _connected(hub, fake_oauth, "slack", access_ttl=7200)
    resp = hub.call("POST", f"{PROJECT}/integrations/{integration_id}:refresh")
    assert resp.status_code == 200 and resp.json["id"] == integration_id, resp.json
    assert server.refresh_grants == 1
    member = hub.make_key(role="member")
    app_key = hub.make_key(role="app")
    assert hub.call("POST", f"{PROJECT}/integrations/{integration_id}:refresh",
                    key=app_key).status_code == 403
    assert hub.call("POST", f"{PROJECT}/integrations/{integration_id}:refresh",
                    key=member).status_code == 200
    pasted = hub.call("POST", f"{PROJECT}/integrations", json={
        "name": "pasted", "provider": "slack", "credentials": {"token": "xoxb-1"}}).json
    refused = hub.call("POST", f"{PROJECT}/integrations/{pasted['id']}:refresh")
    assert refused.status_code == 400 and "auth_type" in refused.json["errors"]
    assert hub.call("POST", f"{PROJECT}/integrations/00000000-0000-7000-8000-000000000000"
                            ":refresh").status_code == 404


def test_the_cli_refreshes_those_due_within_the_window(hub, fake_oauth):
    server = fake_oauth("atlassian", access_ttl=300)
    make_oauth_app(hub, server, "jira")
    first = connect(hub, server, "jira", name="one")
    runner = hub.app.test_cli_runner()
    result = runner.invoke(args=["integrations", "refresh", "--within", "1m", "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    assert json.loads(result.stdout)["due"] == 0 and server.refresh_grants == 0
    result = runner.invoke(args=["integrations", "refresh", "--project", "payments",
                                 "--within", "10m", "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    body = json.loads(result.stdout)
    assert body["due"] == 1 and body["results"][0]["id"] == first and body["results"][0]["refreshed"]
    assert "[1/1]" in result.stderr and server.refresh_grants == 1
    assert events(hub, "integration.refresh")[0]["actor"].startswith("cli:")

    server.revoke_all()
    result = runner.invoke(args=["integrations", "refresh", "--all", "--within", "1h"])
    assert result.exit_code == 1 and "1 failed" in result.stdout
    bad = runner.invoke(args=["integrations", "refresh", "--within", "soon"])
    assert bad.exit_code != 0 and "duration" in bad.output and "Traceback" not in bad.output


def test_twenty_concurrent_reads_of_a_due_token_cause_one_refresh(hub, fake_oauth, backend):
    """Threads against one served app (each request its own thread and connection)."""
    server, integration_id = _connected(hub, fake_oauth, "jira")
    server.slow_token_endpoint(0.3)  # every reader arrives while the refresh is under way
    # The connection's token lives 30 s (due for the default min_valid of 60); refreshed
    # ones live an hour, so a reader that comes after the refresh has nothing to refresh.
    server.access_ttl = 3600
    barrier = threading.Barrier(20)

    def read(base):
        barrier.wait()
        status, body = get(f"{base}{PROJECT}/integrations/{integration_id}/credentials",
                           hub.owner_secret)
        return status, json.loads(body)["credentials"]["access_token"]

    with served(hub.app) as base, concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(read, [base] * 20))
    assert [status for status, _ in results] == [200] * 20
    tokens = {token for _, token in results}
    assert len(tokens) == 1 and tokens <= server.valid_access_tokens
    assert server.refresh_grants == 1
    assert [g["grant_type"] for g in server.grants].count("refresh_token") == 1
    assert len(events(hub, "integration.refresh")) == 1


def test_an_oauth_connection_cannot_be_copied(hub, fake_oauth):
    _, integration_id = _connected(hub, fake_oauth, "slack", access_ttl=7200)
    resp = hub.call("POST", f"{PROJECT}/integrations/copy", json={
        "source_project_id": "payments", "source_integration_id": integration_id, "name": "twin"})
    assert resp.status_code == 400 and "source_integration_id" in resp.json["errors"]


def test_without_a_refresh_token_a_working_token_is_served_and_kept(hub, fake_oauth):
    # Pasted OAuth credentials without a refresh token, valid ten more seconds.
    soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=10))
    made = hub.call("POST", f"{PROJECT}/integrations", json={
        "name": "pasted", "provider": "slack", "auth_type": "oauth", "credentials": {
            "access_token": "xoxe.xoxb-pasted", "expires_at": soon.isoformat()}}).json
    served = _door(hub, made["id"])  # due for min_valid=60, but nothing to refresh with
    assert served.status_code == 200 and served.json["credentials"]["access_token"] == "xoxe.xoxb-pasted"
    forced = hub.call("POST", f"{PROJECT}/integrations/{made['id']}:refresh")
    assert forced.status_code == 409 and forced.json["title"] == "Nothing to refresh"
    assert hub.call("GET", f"{PROJECT}/integrations/{made['id']}").json["status"] == "active"


@pytest.mark.parametrize("provider", ["slack", "github", "jira"])
def test_refused_client_credentials_keep_the_connection_and_say_to_fix_the_app(hub, fake_oauth,
                                                                              provider):
    """An admin who rotated the client secret at the provider before updating the hub's app: the
    refresh is refused for the app, not the grant, so nothing expires; once the app holds the
    right secret the same refresh token works."""
    server = fake_oauth(KINDS[provider], access_ttl=30)
    app = make_oauth_app(hub, server, provider)
    integration = connect(hub, server, provider)
    assert hub.call("PUT", f"/v1/oauth-apps/{app['id']}",
                    json={"client_secret": "an-old-secret"}).status_code == 200

    refused = hub.call("GET", f"{PROJECT}/integrations/{integration}/credentials")
    assert refused.status_code == 503, refused.json
    assert "client credentials" in refused.json["detail"] and app["id"] in refused.json["detail"]
    assert "an-old-secret" not in refused.get_data(as_text=True)
    record = hub.call("GET", f"{PROJECT}/integrations/{integration}").json
    assert record["status"] == "active"

    assert hub.call("PUT", f"/v1/oauth-apps/{app['id']}",
                    json={"client_secret": "csecret"}).status_code == 200
    served = hub.call("GET", f"{PROJECT}/integrations/{integration}/credentials")
    assert served.status_code == 200, served.json
    assert served.json["credentials"]["access_token"] in server.valid_access_tokens
    assert server.refresh_grants == 1
