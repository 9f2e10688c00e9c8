"""Connecting integrations by OAuth consent, against fake Slack, GitHub and Atlassian servers on
loopback, on SQLite and PostgreSQL: the whole flow per provider, and every way a callback can
fail creating nothing."""
import concurrent.futures
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from hub.storage.models import Integration, OAuthPending
from tests.oauth_helpers import (
    KINDS,
    PROJECT,
    RETURN_ORIGIN,
    callback,
    connect,
    events,
    get,
    make_oauth_app,
    served,
    start,
)


@pytest.mark.parametrize("provider", ["slack", "github", "jira"])
def test_a_full_connection_stores_checks_audits_and_returns(hub, fake_oauth, provider):
    server = fake_oauth(KINDS[provider])
    make_oauth_app(hub, server, provider)
    started = start(hub, provider, return_to=f"{RETURN_ORIGIN}/done?tab=1")
    assert started.status_code == 201, started.json
    url = started.json["authorize_url"]
    query = parse_qs(urlsplit(url).query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["cid"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8080/v1/oauth/callback"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["state"] == [started.json["state"]] and len(started.json["state"]) >= 22
    if provider == "jira":
        assert query["audience"] == ["api.atlassian.com"] and query["prompt"] == ["consent"]
        assert "offline_access" in query["scope"][0].split(" ")
    if provider == "github":
        assert "scope" not in query

    done = callback(hub, server.consent(url))
    assert done.status_code == 303, done.get_data(as_text=True)
    location = urlsplit(done.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == RETURN_ORIGIN and location.path == "/done"
    integration_id = parse_qs(location.query)["integration_id"][0]
    assert parse_qs(location.query)["tab"] == ["1"]

    record = hub.call("GET", f"{PROJECT}/integrations/{integration_id}").json
    assert record["auth_type"] == "oauth" and record["status"] == "active"
    assert record["last_verification"]["ok"] is True, record["last_verification"]
    assert {"access_token", "refresh_token", "token_type", "scopes"} <= set(record["credentials"]["fields"])
    read = hub.call("GET", f"{PROJECT}/integrations/{integration_id}/credentials").json
    credentials = read["credentials"]
    assert credentials["access_token"] in server.valid_access_tokens
    assert credentials["refresh_token"] in server.valid_refresh_tokens
    assert credentials["expires_at"].endswith("Z")
    if provider == "jira":
        assert credentials["cloud_id"] == server.cloud_id
        assert credentials["api_url"] == f"{server.api_base_url}/ex/jira/{server.cloud_id}"
        assert credentials["site_url"].startswith("https://")
    connected = events(hub, "integration.connect")[0]
    assert connected["outcome"] == "success" and connected["target_id"] == integration_id
    assert connected["actor"] == events(hub, "integration.credentials.read")[0]["actor"]
    assert [g["grant_type"] for g in server.grants] == ["authorization_code"]

    verified = hub.call("POST", f"{PROJECT}/integrations/{integration_id}:verifyConfig")
    assert verified.status_code == 200 and verified.json["ok"] is True, verified.json


def test_the_state_is_single_use_and_a_replay_creates_nothing(hub, fake_oauth):
    server = fake_oauth("slack")
    make_oauth_app(hub, server, "slack")
    location = server.consent(start(hub, "slack").json["authorize_url"])
    assert callback(hub, location).status_code == 200
    replay = callback(hub, location)
    assert replay.status_code == 400 and "already used" in replay.get_data(as_text=True)
    assert replay.headers["Content-Type"].startswith("text/html")
    with hub.app.app_context():
        assert Integration.select().count() == 1


def test_a_made_up_state_and_a_refused_consent_create_nothing(hub, fake_oauth):
    server = fake_oauth("github")
    make_oauth_app(hub, server, "github")
    made_up = hub.call("GET", "/v1/oauth/callback?code=abc&state=not-a-state-we-issued", key=None)
    assert made_up.status_code == 400 and "unknown" in made_up.get_data(as_text=True)
    assert hub.call("GET", "/v1/oauth/callback?code=abc", key=None).status_code == 400

    denied = callback(hub, server.consent(start(hub, "github").json["authorize_url"], approve=False))
    assert denied.status_code == 400 and "access_denied" in denied.get_data(as_text=True)
    event = events(hub, "integration.connect")[0]
    assert event["outcome"] == "denied" and event["details"]["reason"] == "access_denied"
    assert server.grants == []
    with hub.app.app_context():
        assert Integration.select().count() == 0 and OAuthPending.select().count() == 0


def test_an_expired_pending_connection_creates_nothing(hub, fake_oauth):
    server = fake_oauth("slack")
    make_oauth_app(hub, server, "slack")
    location = server.consent(start(hub, "slack").json["authorize_url"])
    with hub.app.app_context():
        OAuthPending.update(expires_at=OAuthPending.created_at).execute()
    resp = callback(hub, location)
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)
    assert events(hub, "integration.connect")[0]["outcome"] == "failed"
    assert server.grants == []


def test_return_to_outside_the_allowed_origins_is_never_followed(hub, fake_oauth):
    server = fake_oauth("slack")
    make_oauth_app(hub, server, "slack")
    for index, return_to in enumerate(("https://evil.example.net/steal",
                                       "https://app.example.com.evil.net/",
                                       "http://app.example.com/")):  # another scheme: another origin
        started = start(hub, "slack", name=f"n{index}", return_to=return_to)
        assert started.status_code == 201, started.json
        done = callback(hub, server.consent(started.json["authorize_url"]))
        assert done.status_code == 200, done.get_data(as_text=True)
        assert "Location" not in done.headers
        assert "is connected" in done.get_data(as_text=True)


def test_a_name_taken_by_a_pasted_token_is_a_409_before_consent_and_bad_input_a_400(hub, fake_oauth):
    server = fake_oauth("slack")
    make_oauth_app(hub, server, "slack")
    connect(hub, server, "slack", name="team")
    assert start(hub, "slack", name="team").status_code == 201  # connected again: new tokens
    assert hub.call("POST", f"{PROJECT}/integrations", json={
        "name": "pasted", "provider": "slack", "credentials": {"token": "xoxb-1"}}).status_code == 201
    taken = start(hub, "slack", name="pasted")
    assert taken.status_code == 409 and taken.headers["Content-Type"] == "application/problem+json"
    assert start(hub, "slack", app="nope").status_code == 404
    unknown = start(hub, "linear")
    assert unknown.status_code == 400 and "provider" in unknown.json["errors"]
    assert start(hub, "slack", name="bad name").status_code == 400
    assert start(hub, "slack", name="other", return_to="javascript:alert(1)").status_code == 400


def test_a_code_the_provider_refuses_creates_nothing(hub, fake_oauth):
    server = fake_oauth("atlassian")
    make_oauth_app(hub, server, "jira", client_secret="wrong-secret")
    resp = callback(hub, server.consent(start(hub, "jira").json["authorize_url"]))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert server.grants[0]["ok"] is False
    event = events(hub, "integration.connect")[0]
    assert event["outcome"] == "failed" and event["details"]["reason"] == server.grants[0]["error"]
    with hub.app.app_context():
        assert Integration.select().count() == 0


def test_the_egress_policy_guards_the_token_endpoint(hub, fake_oauth):
    server = fake_oauth("slack")
    make_oauth_app(hub, server, "slack", token_url="http://169.254.169.254/api/oauth.v2.access")
    resp = callback(hub, server.consent(start(hub, "slack").json["authorize_url"]))
    assert resp.status_code == 502 and "metadata" in resp.get_data(as_text=True)
    event = events(hub, "integration.connect")[0]
    assert event["outcome"] == "failed" and event["details"]["reason"] == "blocked_address"
    with hub.app.app_context():
        assert Integration.select().count() == 0


def test_concurrent_callbacks_with_one_state_connect_once(hub, fake_oauth):
    server = fake_oauth("github")
    make_oauth_app(hub, server, "github")
    location = urlsplit(server.consent(start(hub, "github").json["authorize_url"]))
    barrier = threading.Barrier(8)

    def call(base):
        barrier.wait()
        return get(f"{base}{location.path}?{location.query}")[0]

    with served(hub.app) as base, concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(call, [base] * 8))
    assert statuses == [200] + [400] * 7
    assert [g["grant_type"] for g in server.grants] == ["authorization_code"]
    with hub.app.app_context():
        assert Integration.select().count() == 1


def test_the_callback_address_is_hub_public_url(make_app, migrated_database_url, fake_oauth):
    from hub import bootstrap
    from hub.errors import SettingsError

    with pytest.raises(SettingsError, match="HUB_PUBLIC_URL"):
        make_app(DATABASE_URL=migrated_database_url, PUBLIC_URL="ftp://hub.example.com")
    app = make_app(DATABASE_URL=migrated_database_url, PLUGINS_ENTRYPOINTS=True,
                   VERIFY_ALLOW_HOSTS="127.0.0.1", PUBLIC_URL="https://hub.example.com/base/")
    with app.app_context(), app.extensions["hub.db"].connection_context():
        secret = bootstrap.initialize(app.config, app.extensions["hub.db"], "acme", "payments").secret
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    server = fake_oauth("slack")
    assert client.post("/v1/oauth-apps", headers=headers, json={
        "provider": "slack", "name": "main", "client_id": "cid", "client_secret": "csecret",
        "authorize_url": server.authorize_url}).status_code == 201
    started = client.post(f"{PROJECT}/integrations:connect", headers=headers, json={
        "provider": "slack", "name": "team", "oauth_app": "main"})
    assert parse_qs(urlsplit(started.json["authorize_url"]).query)["redirect_uri"] == [
        "https://hub.example.com/base/v1/oauth/callback"]
