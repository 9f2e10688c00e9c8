"""Secrets never leak: a whole scenario with a marker in every secret field, on both backends, then
a search of the database (SQLite file with its -wal and -shm, or a pg_dump), the logs (every
logger at DEBUG, the access log among them) and every response body and header except the two
that exist to hand plaintext out (the credential door and resolve) and, for an API key's secret,
the one response that creates it: zero hits.

The scenario writes, rewrites, copies, verifies (passing and failing), refuses bad input that
carries a marker, reads through the door, resolves, destroys a version, revokes a key and lists
everything, including the audit log.
"""
from __future__ import annotations

import logging
import subprocess
import uuid
from pathlib import Path

import pytest

TAG = "zqLEAK"  # every marker starts with it, so one search finds them all
# Not a secret: a description, which the database, the SQL log and the answers do hold. Finding it
# proves that each search below can find what it looks for.
CONTROL = "zqCONTROL" + uuid.uuid4().hex[:12]


def _marker(name: str) -> str:
    return f"{TAG}{name}{uuid.uuid4().hex[:12]}"


class Recorder:
    """Calls the hub and keeps every answer, noting those allowed to carry plaintext."""

    def __init__(self, hub):
        self.hub = hub
        self.answers = []  # (label, response, may_show: set of markers it may carry)

    def __call__(self, method, path, *, may_show=(), expect=None, **kwargs):
        resp = self.hub.call(method, path, **kwargs)
        if expect is not None:
            assert resp.status_code == expect, (method, path, resp.status_code, resp.get_json(silent=True))
        self.answers.append((f"{method} {path} -> {resp.status_code}", resp, set(may_show)))
        return resp


def _scenario(hub, fake_provider, call: Recorder) -> tuple[list[str], list[str]]:
    """Runs it; returns (markers, API key secrets) that must appear nowhere they should not."""
    slack_token = "xoxb-" + _marker("slack")
    slack_token_2 = "xoxb-" + _marker("slack2")
    webhook_part = _marker("hook")
    github_token = "ghp_" + _marker("gh")
    bad_token = "nope-" + _marker("bad")
    shared_token = "xoxp-" + _marker("shared")
    value_1, value_2, value_3 = _marker("v1"), _marker("v2"), _marker("v3")
    markers = [slack_token, slack_token_2, webhook_part, github_token, bad_token, shared_token,
               value_1, value_2, value_3]
    fake_provider.expect_request("/api/auth.test").respond_with_json(
        {"ok": True, "team": "Acme", "team_id": "T1", "user": "bot", "user_id": "U1"})
    fake_provider.expect_request(f"/services/T1/B1/{webhook_part}").respond_with_data("ok")
    config = {"api_base_url": fake_provider.url_for("/api")}
    base = "/v1/projects/payments"
    call("POST", "/v1/projects", json={"handle": "other"}, expect=201)

    made = call("POST", f"{base}/integrations?verify=true", expect=201, json={
        "name": "alerts", "provider": "slack", "credentials": {"token": slack_token}, "config": config})
    integration = made.json["id"]
    call("POST", f"{base}/integrations?verify=true", expect=201, json={
        "name": "hook", "provider": "slack", "auth_type": "webhook",
        "credentials": {"webhook_url": fake_provider.url_for(f"/services/T1/B1/{webhook_part}")}})
    call("POST", f"{base}/integrations", expect=201, json={
        "name": "code", "provider": "github", "credentials": {"token": github_token},
        "description": CONTROL})
    call("POST", f"{base}/integrations", expect=400, json={
        "name": "bad", "provider": "slack", "credentials": {"token": bad_token}})
    call("POST", f"{base}/integrations", expect=400, json={
        "name": "bad", "provider": "slack", "credentials": {"token": slack_token, "extra": bad_token}})
    call("PUT", f"{base}/integrations/{integration}", expect=200,
         json={"credentials": {"token": slack_token_2}})
    call("POST", f"{base}/integrations/{integration}:verifyConfig", expect=200)
    call("POST", f"{base}/integrations/{integration}:verifyConfig", expect=200,
         json={"credentials": {"token": slack_token}})
    call("POST", "/v1/providers/slack:verifyConfig", expect=200,
         json={"credentials": {"token": slack_token}, "config": {"api_base_url": "http://10.0.0.9/api"}})
    call("POST", "/v1/projects/other/integrations/copy", expect=201, json={
        "source_project_id": "payments", "source_integration_id": integration})
    shared = call("POST", "/v1/integrations", expect=201, json={
        "name": "shared", "provider": "slack", "credentials": {"token": shared_token},
        "config": config, "is_global": True}).json["id"]
    call("POST", f"/v1/integrations/{shared}:verifyConfig", expect=200)

    call("POST", f"{base}/secrets", expect=201, json={"name": "db", "values": {"password": value_1}})
    call("PUT", f"{base}/secrets/db", expect=200, json={"values": {"password": value_2}, "cas": 1})
    call("PUT", f"{base}/secrets/db", expect=409, json={"values": {"password": value_3}, "cas": 1})
    call("POST", f"{base}/secrets", expect=400, json={"name": "x", "values": {"k": 7, "v": value_3}})
    call("POST", f"{base}/secrets/db/versions/1:destroy", expect=200)

    everything = set(markers)
    call("GET", f"{base}/integrations/{integration}/credentials", expect=200, may_show=everything)
    call("GET", f"{base}/credentials", expect=200, may_show=everything)
    call("GET", "/v1/integrations/credentials?project=other", expect=200, may_show=everything)
    call("POST", f"{base}/secrets:resolve", expect=200, may_show=everything,
         json={"template": "pw=${secret:db.password}"})
    call("POST", f"{base}/secrets:resolve", expect=400, json={"template": "${secret:db.nope}"})

    key_secrets = []
    for role in ("member", "app"):
        created = call("POST", "/v1/api-keys", expect=201, json={"name": role, "role": role})
        key_secrets.append(created.json["secret"])
        call.answers[-1][2].add(created.json["secret"])  # its own creation shows it, once
    member, app_key = key_secrets
    call("GET", f"{base}/integrations/{integration}/credentials", key=member, expect=403)
    call("GET", f"{base}/integrations/{integration}/credentials", key=app_key, expect=200,
         may_show=everything)
    revoked = call("GET", "/v1/api-keys", expect=200).json["items"]
    member_id = next(k["id"] for k in revoked if k["name"] == "member")
    call("DELETE", f"/v1/api-keys/{member_id}", expect=204)
    call("GET", "/v1/projects", key=member, expect=401)
    key_secrets.append(hub.owner_secret)

    for path in (f"{base}/integrations", f"{base}/integrations/{integration}", "/v1/integrations",
                 f"/v1/integrations/{shared}", f"{base}/secrets", f"{base}/secrets/db",
                 f"{base}/secrets/db/versions", f"{base}/secrets/db/versions/2", "/v1/api-keys",
                 f"/v1/api-keys/{member_id}", f"{base}/audit-events?limit=200",
                 "/v1/audit-events?limit=200", "/v1/audit-checkpoints", "/v1/projects",
                 "/v1/providers", "/openapi.json"):
        call("GET", path, expect=200)
    return markers, key_secrets


def _database_bytes(hub, backend) -> bytes:
    url = hub.app.config["DATABASE_URL"]
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
        assert path in files
        return b"".join(p.read_bytes() for p in files)
    dump = subprocess.run(["pg_dump", "--no-owner", f"--dbname={url}"], capture_output=True, check=True)
    assert b"COPY public.integration" in dump.stdout or b"CREATE TABLE public.integration" in dump.stdout
    return dump.stdout


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)  # every logger, peewee's SQL and hub.access included
    return caplog


def test_no_secret_leaks_anywhere(hub, fake_provider, backend, all_logs):
    call = Recorder(hub)
    markers, key_secrets = _scenario(hub, fake_provider, call)
    needles = markers + key_secrets + [hub.app.config["ROOT_KEY"]]

    stored = _database_bytes(hub, backend)
    assert CONTROL.encode() in stored
    assert [n for n in needles if n.encode() in stored] == []
    assert TAG.encode() not in stored

    # The fake provider's own request log (werkzeug's, in this process) shows the URLs the hub
    # called, as the provider's would; the hub's own loggers are what is searched.
    hub_records = [r for r in all_logs.records if r.name != "werkzeug"]
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in hub_records)
    assert "method=POST" in logged and {"hub.access", "peewee"} <= {r.name for r in hub_records}
    assert CONTROL in logged
    assert [n for n in needles if n in logged] == [] and TAG not in logged

    assert any(CONTROL in resp.get_data(as_text=True) for _, resp, _ in call.answers)
    leaks = []
    for label, resp, may_show in call.answers:
        shown = resp.get_data(as_text=True) + "\n".join(f"{k}: {v}" for k, v in resp.headers.items())
        leaks += [(label, n[:16]) for n in needles if n in shown and n not in may_show]
    assert leaks == []
    # and the door really did hand them out, so the search above could have found them
    door = [resp for label, resp, may in call.answers if "/credentials" in label and resp.status_code == 200]
    assert any(markers[1] in resp.get_data(as_text=True) for resp in door)
