"""The credential door and the audit log, on SQLite and PostgreSQL: who may read plaintext, that
every read and change is on record in its transaction, and that nothing is done unaudited."""
import json

import pytest

from hub.audit import verification
from hub.storage.models import AuditEvent

TOKEN = "xoxb-1111-2222-door-secret-token"
BASE = "/v1/projects/payments/integrations"


def _integration(hub, name="alerts", token=TOKEN):
    resp = hub.call("POST", BASE, json={"name": name, "provider": "slack", "credentials": {"token": token}})
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def _events(hub, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    resp = hub.call("GET", f"/v1/projects/payments/audit-events?{qs}")
    assert resp.status_code == 200, resp.json
    return resp.json["items"]


def test_app_key_reads_credentials_through_the_door_and_it_is_on_record(hub):
    integration = _integration(hub)
    app_key = hub.make_key(role="app", projects=["payments"])
    resp = hub.call("GET", f"{BASE}/{integration}/credentials", key=app_key,
                    headers={"X-Request-ID": "req-door-1"})
    assert resp.status_code == 200, resp.json
    assert resp.json == {"integration_id": integration, "provider": "slack", "auth_type": "token",
                         "credentials": {"token": TOKEN}}
    assert resp.headers["Cache-Control"] == "no-store"
    read = _events(hub, action="integration.credentials.read")[0]
    assert read["outcome"] == "success" and read["request_id"] == "req-door-1"
    assert read["actor"].startswith("hub_pk_") and read["target_id"] == integration
    assert read["project"] == "payments" and read["details"]["fields"] == ["token"]


def test_member_key_is_refused_and_the_refusal_is_on_record(hub):
    integration = _integration(hub)
    member = hub.make_key(role="member")
    resp = hub.call("GET", f"{BASE}/{integration}/credentials", key=member)
    assert resp.status_code == 403 and resp.headers["Content-Type"] == "application/problem+json"
    assert TOKEN not in resp.get_data(as_text=True)
    denied = _events(hub, action="integration.credentials.read")[0]
    assert denied["outcome"] == "denied"
    assert hub.call("GET", "/v1/projects/payments/credentials", key=member).status_code == 403


def test_inactive_and_expired_integrations_are_not_served(hub):
    integration = _integration(hub)
    hub.call("PUT", f"{BASE}/{integration}", json={"status": "inactive"})
    resp = hub.call("GET", f"{BASE}/{integration}/credentials")
    assert resp.status_code == 409 and "inactive" in resp.json["detail"]
    hub.call("PUT", f"{BASE}/{integration}", json={"status": "active", "expires_at": "2020-01-01T00:00:00Z"})
    resp = hub.call("GET", f"{BASE}/{integration}/credentials")
    assert resp.status_code == 409 and resp.json["title"] == "Credentials expired"


def test_project_credentials_are_paged_and_only_active_ones_served(hub):
    ids = [_integration(hub, f"n{i}", token=f"xoxb-page-{i}") for i in range(3)]
    hub.call("PUT", f"{BASE}/{ids[1]}", json={"status": "inactive"})
    first = hub.call("GET", "/v1/projects/payments/credentials?limit=1")
    assert first.status_code == 200 and first.json["has_more"] and first.headers["Cache-Control"] == "no-store"
    second = hub.call("GET", f"/v1/projects/payments/credentials?limit=5&cursor={first.json['next_cursor']}")
    served = [item["integration_id"] for item in first.json["items"] + second.json["items"]]
    assert served == [ids[0], ids[2]]
    assert hub.call("GET", "/v1/projects/payments/credentials?provider=github").json["items"] == []


def test_app_keys_never_write_whatever_permissions_they_list(hub):
    integration = _integration(hub)
    app_key = hub.make_key(role="app", permissions=["integrations:write", "integrations:verify",
                                                     "secrets:write"])
    assert hub.call("POST", BASE, key=app_key, json={
        "name": "x", "provider": "slack", "credentials": {"token": "xoxb-1"}}).status_code == 403
    assert hub.call("PUT", f"{BASE}/{integration}", key=app_key, json={"status": "inactive"}).status_code == 403
    assert hub.call("DELETE", f"{BASE}/{integration}", key=app_key).status_code == 403
    assert hub.call("POST", f"{BASE}/{integration}:verifyConfig", key=app_key).status_code == 403
    assert hub.call("POST", f"{BASE}/copy", key=app_key, json={
        "source_project_id": "payments", "source_integration_id": integration, "name": "c"}).status_code == 403
    assert hub.call("POST", "/v1/projects/payments/secrets", key=app_key,
                    json={"name": "s", "values": {"a": "b"}}).status_code == 403
    assert hub.call("GET", f"{BASE}/{integration}/credentials", key=app_key).status_code == 200


def test_each_change_writes_one_event_and_a_failed_change_none(hub):
    integration = _integration(hub)
    hub.call("PUT", f"{BASE}/{integration}", json={"credentials": {"token": "xoxb-rotated-secret"}})
    hub.call("POST", "/v1/projects/payments/secrets", json={"name": "db", "values": {"pw": "s3cr3t-pw"}})
    hub.call("POST", "/v1/projects/payments/secrets:resolve", json={"template": "${secret:db.pw}"})
    before = len(_events(hub, limit=200))
    dup = hub.call("POST", BASE, json={"name": "alerts", "provider": "slack", "credentials": {"token": "xoxb-9"}})
    assert dup.status_code == 409
    assert len(_events(hub, limit=200)) == before  # the refused create left no event
    actions = [e["action"] for e in _events(hub, limit=200)]
    assert actions[:4] == ["secret.resolve", "secret.create", "integration.update", "integration.create"]
    org_actions = [e["action"] for e in hub.call("GET", "/v1/audit-events?limit=200").json["items"]]
    assert "project.create" in org_actions and "api_key.create" in org_actions
    # Never a value in an event.
    with hub.app.app_context():
        everything = json.dumps([dict(e.__data__) for e in AuditEvent.select()], default=str)
    for plaintext in (TOKEN, "xoxb-rotated-secret", "s3cr3t-pw"):
        assert plaintext not in everything


def test_the_chain_verifies_and_checkpoints_are_published(hub):
    _integration(hub)
    checkpoints = hub.call("GET", "/v1/audit-checkpoints")
    assert checkpoints.status_code == 200 and checkpoints.json["items"]
    key = hub.call("GET", "/v1/audit-checkpoints/public-key").json
    assert key["algorithm"] == "Ed25519" and key["key_id"] in key["keys"]
    with hub.app.app_context():
        keys = hub.app.extensions["hub.keyring"].get().verify_keys()
        report = verification.check_org(hub.org.id, keys)
    assert report.ok and report.events >= 3 and report.checkpoints >= 1


def _block_audit_inserts(hub):
    db = hub.app.extensions["hub.db"]
    with hub.app.app_context(), db.connection_context():
        if hub.app.config["DATABASE_URL"].startswith("sqlite"):
            db.execute_sql("CREATE TRIGGER block_audit BEFORE INSERT ON audit_event "
                           "BEGIN SELECT RAISE(ABORT, 'audit blocked'); END")
        else:
            db.execute_sql("CREATE FUNCTION block_audit() RETURNS trigger AS $$ BEGIN "
                           "RAISE EXCEPTION 'audit blocked'; END $$ LANGUAGE plpgsql")
            db.execute_sql("CREATE TRIGGER block_audit BEFORE INSERT ON audit_event "
                           "FOR EACH ROW EXECUTE FUNCTION block_audit()")


@pytest.fixture
def unblock(hub):
    """Drops the blocking trigger afterwards (the PostgreSQL schema is reused by later tests)."""
    yield
    db = hub.app.extensions["hub.db"]
    with hub.app.app_context(), db.connection_context():
        db.execute_sql("DROP TRIGGER IF EXISTS block_audit" +
                       ("" if hub.app.config["DATABASE_URL"].startswith("sqlite") else " ON audit_event"))
        if not hub.app.config["DATABASE_URL"].startswith("sqlite"):
            db.execute_sql("DROP FUNCTION IF EXISTS block_audit()")


def test_nothing_happens_unaudited(hub, unblock):
    integration = _integration(hub)
    hub.call("POST", "/v1/projects/payments/secrets", json={"name": "db", "values": {"pw": "s3cr3t-pw"}})
    _block_audit_inserts(hub)
    read = hub.call("GET", f"{BASE}/{integration}/credentials")
    assert read.status_code == 503 and TOKEN not in read.get_data(as_text=True)
    resolved = hub.call("POST", "/v1/projects/payments/secrets:resolve", json={"template": "${secret:db.pw}"})
    assert resolved.status_code == 503 and "s3cr3t-pw" not in resolved.get_data(as_text=True)
    put = hub.call("PUT", f"{BASE}/{integration}", json={"display_name": "Renamed"})
    assert put.status_code == 503
    assert hub.call("GET", f"{BASE}/{integration}").json["display_name"] is None  # nothing changed


def test_a_refused_read_of_any_path_is_a_403_with_an_event(hub):
    member = hub.make_key(role="member")
    for junk in ("x" * 300, "not-an-id"):
        resp = hub.call("GET", f"{BASE}/{junk}/credentials", key=member)
        assert resp.status_code == 403, resp.json
    denied = _events(hub, action="integration.credentials.read")
    assert denied[0]["outcome"] == "denied" and denied[0]["target_id"] is None


def test_verify_on_create_needs_the_verify_permission(hub):
    writer = hub.make_key(permissions=["integrations:write", "integrations:read"])
    resp = hub.call("POST", f"{BASE}?verify=true", key=writer, json={
        "name": "v", "provider": "slack", "credentials": {"token": TOKEN}})
    assert resp.status_code == 403 and "integrations:verify" in resp.json["detail"]


def test_a_cursor_no_column_can_hold_is_a_400(hub):

    cursor = str(10**30).encode().hex()  # digits, as the API writes an integer key, but too many
    resp = hub.call("GET", f"/v1/projects/payments/audit-events?cursor={cursor}")
    assert resp.status_code == 400 and "cursor" in resp.json["errors"]
