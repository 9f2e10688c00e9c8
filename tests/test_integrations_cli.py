"""`hub integrations verify`: progress, a summary, exit code 1 on failures, and resuming."""
import json

from hub.verification import bulk as bulk_verify

TOKEN = "xoxb-5555-6666-bulk-secret"


def _make(hub, api_base_url, names, project="payments"):
    ids = []
    for name in names:
        resp = hub.call("POST", f"/v1/projects/{project}/integrations", json={
            "name": name, "provider": "slack", "credentials": {"token": TOKEN},
            "config": {"api_base_url": api_base_url}})
        assert resp.status_code == 201, resp.json
        ids.append(resp.json["id"])
    return ids


def test_verify_all_reports_and_records(hub, httpserver):
    httpserver.expect_request("/api/auth.test").respond_with_json({"ok": True, "team": "Acme", "team_id": "T1"})
    ids = _make(hub, httpserver.url_for("/api"), ["a", "b", "c"])
    result = hub.app.test_cli_runner().invoke(
        args=["integrations", "verify", "--all", "--concurrency", "2", "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    body = json.loads(result.stdout)
    assert body["checked"] == 3 and body["failed"] == 0
    assert "[3/3]" in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    for integration_id in ids:
        rec = hub.call("GET", f"/v1/projects/payments/integrations/{integration_id}").json
        assert rec["last_verification"]["ok"] is True


def test_failures_exit_1_with_a_table(hub, httpserver):
    httpserver.expect_request("/api/auth.test").respond_with_json({"ok": False, "error": "token_revoked"})
    _make(hub, httpserver.url_for("/api"), ["gone"])
    result = hub.app.test_cli_runner().invoke(args=["integrations", "verify", "--project", "payments"])
    assert result.exit_code == 1
    assert "revoked" in result.stdout and "1 checked, 1 failed" in result.stdout
    rec = hub.call("GET", "/v1/projects/payments/integrations").json["items"][0]
    assert rec["status"] == "expired"


def test_needs_a_scope(hub):
    result = hub.app.test_cli_runner().invoke(args=["integrations", "verify"])
    assert result.exit_code == 2 and "--all" in result.output


def test_an_interrupted_run_resumes(hub, httpserver):
    httpserver.expect_request("/api/auth.test").respond_with_json({"ok": True, "team": "Acme", "team_id": "T1"})
    ids = _make(hub, httpserver.url_for("/api"), ["one", "two", "three"])
    # A run began, then checked "one" before it was interrupted.
    state = bulk_verify.RunState(hub.app.config["INSTANCE_PATH"], "all")
    state.begin(restart=True)
    assert hub.call("POST", f"/v1/projects/payments/integrations/{ids[0]}:verifyConfig").json["ok"]
    calls_before = len(httpserver.log)
    result = hub.app.test_cli_runner().invoke(args=["integrations", "verify", "--all", "--json"])
    assert result.exit_code == 0, result.stderr
    assert "Resuming" in result.stderr
    body = json.loads(result.stdout)
    assert body["skipped"] == 1 and body["checked"] == 2
    assert len(httpserver.log) - calls_before == 2
    assert not state.path.exists()
    # The next run starts afresh and checks all three.
    again = json.loads(hub.app.test_cli_runner().invoke(
        args=["integrations", "verify", "--all", "--json"]).stdout)
    assert again["checked"] == 3 and again["skipped"] == 0
