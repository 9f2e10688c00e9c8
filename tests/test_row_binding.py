"""Issue 10, findings 4 and 5, on SQLite and PostgreSQL: an attacker who can write the database but
does not hold the root key. Each attack is a raw SQL UPDATE or INSERT on the hub's own database;
the hub must refuse the altered row (and send nothing anywhere), while every normal flow (PUT,
copy, verify, rotate, rewrap, rotate-root) keeps verifying."""
from __future__ import annotations

import datetime
import json
import logging
import re

import pytest
from pytest_httpserver import HTTPServer

from hub.storage.models import ApiKey, Integration, Project, Secret, SecretVersion

TOKEN = "xoxb-1111-2222-row-binding-token"
NEW_TOKEN = "xoxb-3333-4444-row-binding-other"
BASE = "/v1/projects/payments/integrations"
SLACK_OK = {"ok": True, "team": "Acme", "team_id": "T1", "user": "hubbot", "user_id": "U1",
            "bot_id": "B1"}


def attacker_sql(hub, sql: str, *params) -> int:
    """Run `sql` (with ? placeholders) on the hub's database, as someone with write access to it."""
    db = hub.app.extensions["hub.db"]
    with db.connection_context():
        cursor = db.execute_sql(sql.replace("?", db.param), params)
        return cursor.rowcount


def in_db(hub):
    class Block:
        def __enter__(self):
            self.ctx = hub.app.app_context()
            self.ctx.push()
            self.conn = hub.app.extensions["hub.db"].connection_context()
            self.conn.__enter__()

        def __exit__(self, *exc):
            self.conn.__exit__(*exc)
            self.ctx.pop()

    return Block()


@pytest.fixture
def slack(httpserver):
    httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(SLACK_OK)
    httpserver.api_base_url = httpserver.url_for("/api")
    return httpserver


@pytest.fixture
def evil():
    """The attacker's server on loopback: answers like Slack and records every request."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(".*")).respond_with_json(SLACK_OK)
    server.start()
    yield server
    server.clear()
    server.stop()


def _create_slack(hub, slack, name="alerts", project="payments"):
    resp = hub.call("POST", f"/v1/projects/{project}/integrations", json={
        "name": name, "provider": "slack", "credentials": {"token": TOKEN},
        "config": {"api_base_url": slack.api_base_url}})
    assert resp.status_code == 201, resp.json
    return resp.json


def _refused(resp, integration_id):
    assert resp.status_code == 500, resp.json
    assert resp.json["title"] == "Stored data unreadable"
    assert integration_id in resp.json["detail"] and "integrity check" in resp.json["detail"]
    text = resp.get_data(as_text=True)
    assert TOKEN not in text and NEW_TOKEN not in text


def _evil_got_nothing(evil):
    assert evil.log == []


# -- finding 4: a secret version's ciphertext is bound to its secret --------------------------------

def _secret(hub, project, name, values, key="owner"):
    resp = hub.call("POST", f"/v1/projects/{project}/secrets", key=key,
                    json={"name": name, "values": values})
    assert resp.status_code == 201, resp.json
    return resp.json


def _resolve(hub, project, template, key="owner"):
    return hub.call("POST", f"/v1/projects/{project}/secrets:resolve", key=key,
                    json={"template": template})


def test_a_version_moved_to_another_orgs_secret_does_not_resolve_there(hub):
    _secret(hub, "payments", "db", {"password": "acme-password"})
    other_org, other_owner = hub.make_org("globex", "globex-app")
    _secret(hub, "globex-app", "db", {"password": "globex-password"}, key=other_owner)
    with in_db(hub):
        mine = SecretVersion.select().join(Secret).where(Secret.project == hub.project.id).get()
        theirs = Secret.get((Secret.name == "db") & (Secret.project != hub.project.id))
        their_project = Project.get_by_id(theirs.project_id)
    # The attacker retires globex's version and moves acme's onto globex's secret, copying every
    # column that names where it belongs.
    attacker_sql(hub, "UPDATE secret_version SET state = 'DISABLED', version = 2 WHERE secret_id = ?",
                 theirs.id)
    assert attacker_sql(hub, "UPDATE secret_version SET secret_id = ?, project_id = ?, org_id = ? "
                             "WHERE id = ?", theirs.id, theirs.project_id, their_project.org_id,
                        mine.id) == 1
    resp = _resolve(hub, "globex-app", "${secret:db.password}", key=other_owner)
    assert resp.status_code == 500 and resp.json["title"] == "Stored data unreadable"
    assert "acme-password" not in resp.get_data(as_text=True)


def test_a_version_moved_within_the_org_or_renumbered_does_not_open(hub):
    assert hub.call("POST", "/v1/projects", json={"handle": "billing"}).status_code == 201
    _secret(hub, "payments", "db", {"password": "v1"})
    assert hub.call("PUT", "/v1/projects/payments/secrets/db",
                    json={"values": {"password": "v2"}}).status_code == 200
    _secret(hub, "billing", "db", {"password": "billing"})
    with in_db(hub):
        billing = Secret.get((Secret.name == "db") & (Secret.project != hub.project.id))
        payments = Secret.get((Secret.name == "db") & (Secret.project == hub.project.id))
        v2 = SecretVersion.get((SecretVersion.secret == payments.id) & (SecretVersion.version == 2))
    # Renumbering: v1 takes v2's number after v2 is renumbered away (a rollback by the database).
    attacker_sql(hub, "UPDATE secret_version SET version = 99, state = 'DISABLED' WHERE id = ?",
                 v2.id)
    attacker_sql(hub, "UPDATE secret_version SET version = 2, state = 'ENABLED' "
                      "WHERE secret_id = ? AND version = 1", payments.id)
    assert _resolve(hub, "payments", "${secret:db.password}").status_code == 500
    # The whole secret moved to another project of the same org.
    attacker_sql(hub, "UPDATE secret SET name = 'moved', project_id = ? WHERE id = ?",
                 billing.project_id, payments.id)
    resp = _resolve(hub, "billing", "${secret:moved.password}")
    assert resp.status_code == 500 and "v1" not in resp.json.get("result", "")
    assert _resolve(hub, "billing", "${secret:db.password}").json == {"result": "billing"}


def test_secret_versions_resolve_after_rotate_rewrap_and_rotate_root(hub):
    _secret(hub, "payments", "db", {"password": "before"})
    runner = hub.app.test_cli_runner()
    assert runner.invoke(args=["crypto", "rotate"]).exit_code == 0
    assert hub.call("PUT", "/v1/projects/payments/secrets/db",
                    json={"values": {"password": "after"}}).status_code == 200
    assert runner.invoke(args=["crypto", "rewrap"]).exit_code == 0
    assert hub.call("POST", "/v1/projects/payments/secrets/db/versions/1:enable").status_code == 200
    assert _resolve(hub, "payments", "${secret:db.password}").json == {"result": "before"}


# -- finding 5: the integration fields that decide where plaintext goes ------------------------------

def test_an_edited_api_base_url_sends_the_token_nowhere(hub, slack, evil):
    made = _create_slack(hub, slack)
    url = f"{BASE}/{made['id']}"
    assert hub.call("POST", f"{url}:verifyConfig").json["ok"] is True
    assert len(slack.log) == 1
    attacker_sql(hub, "UPDATE integration SET config = ? WHERE id = ?",
                 json.dumps({"api_base_url": evil.url_for("/api")}), made["id"])
    _refused(hub.call("POST", f"{url}:verifyConfig"), made["id"])
    # A proposal of new credentials would go to the stored host too: refused as well.
    _refused(hub.call("POST", f"{url}:verifyConfig", json={"credentials": {"token": NEW_TOKEN}}),
             made["id"])
    _refused(hub.call("GET", f"{url}/credentials"), made["id"])
    _refused(hub.call("GET", "/v1/projects/payments/credentials"), made["id"])
    # A PUT of new credentials must not adopt (and re-MAC) the attacker's host.
    _refused(hub.call("PUT", url, json={"credentials": {"token": NEW_TOKEN}}), made["id"])
    _refused(hub.call("POST", f"{BASE}/copy", json={
        "source_project_id": "payments", "source_integration_id": made["id"], "name": "copy"}),
        made["id"])
    _evil_got_nothing(evil)
    assert len(slack.log) == 1


def test_a_refused_integration_is_logged_for_the_operator(hub, slack, caplog):
    made = _create_slack(hub, slack)
    attacker_sql(hub, "UPDATE integration SET auth_type = 'webhook' WHERE id = ?", made["id"])
    with caplog.at_level(logging.ERROR, logger="hub.integrity"):
        _refused(hub.call("GET", f"{BASE}/{made['id']}/credentials"), made["id"])
    assert any(made["id"] in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("sql,params", [
    ("UPDATE integration SET status = 'active' WHERE id = ?", ()),  # the owner's off switch undone
    ("UPDATE integration SET auth_type = 'webhook' WHERE id = ?", ()),
    ("UPDATE integration SET provider = 'github' WHERE id = ?", ()),
    ("UPDATE integration SET fingerprint = ? WHERE id = ?", ("0" * 64,)),
])
def test_each_bound_field_is_checked(hub, slack, sql, params):
    made = _create_slack(hub, slack)
    url = f"{BASE}/{made['id']}"
    assert hub.call("PUT", url, json={"status": "inactive"}).status_code == 200
    if "status" not in sql:
        assert hub.call("PUT", url, json={"status": "active"}).status_code == 200
    attacker_sql(hub, sql, *params, made["id"])
    _refused(hub.call("GET", f"{url}/credentials"), made["id"])


def test_credentials_of_an_older_ciphertext_are_refused(hub, slack):
    """The ciphertext is bound to its row; the fingerprint (MACed) names which credentials."""
    made = _create_slack(hub, slack)
    with in_db(hub):
        old = bytes(Integration.get_by_id(made["id"]).credentials_ciphertext)
    url = f"{BASE}/{made['id']}"
    assert hub.call("PUT", url, json={"credentials": {"token": NEW_TOKEN}}).status_code == 200
    attacker_sql(hub, "UPDATE integration SET credentials_ciphertext = ? WHERE id = ?", old,
                 made["id"])
    resp = hub.call("GET", f"{url}/credentials")
    assert resp.status_code == 500 and TOKEN not in resp.get_data(as_text=True)


def test_an_integration_moved_to_another_project_is_refused_there(hub, slack):
    assert hub.call("POST", "/v1/projects", json={"handle": "billing"}).status_code == 201
    made = _create_slack(hub, slack)
    billing = hub.call("GET", "/v1/projects/billing").json["id"]
    attacker_sql(hub, "UPDATE integration SET project_id = ? WHERE id = ?", billing, made["id"])
    resp = hub.call("GET", f"/v1/projects/billing/integrations/{made['id']}/credentials")
    _refused(resp, made["id"])


def test_a_forged_sharing_link_shares_nothing(hub):
    for handle in ("billing", "search"):
        assert hub.call("POST", "/v1/projects", json={"handle": handle}).status_code == 201
    jira = {"base_url": "https://acme.atlassian.net", "username": "bot@acme.test",
            "api_token": "jira-org-secret"}
    made = hub.call("POST", "/v1/integrations", json={
        "name": "company-jira", "provider": "jira", "credentials": jira, "projects": ["billing"]})
    assert made.status_code == 201, made.json
    integration_id = made.json["id"]
    read = hub.call("GET", "/v1/integrations/credentials?project=billing")
    assert [c["credentials"] for c in read.json["items"]] == [jira]
    search = hub.call("GET", "/v1/projects/search").json["id"]
    attacker_sql(hub, "INSERT INTO integration_project (integration_id, project_id) VALUES (?, ?)",
                 integration_id, search)
    resp = hub.call("GET", "/v1/integrations/credentials?project=search")
    assert resp.status_code == 500 and integration_id in resp.json["detail"]
    assert "jira-org-secret" not in resp.get_data(as_text=True)
    # The same link with another link's MAC does not verify either.
    attacker_sql(hub, "UPDATE integration_project SET integrity = (SELECT integrity FROM "
                      "integration_project WHERE integrity IS NOT NULL) WHERE project_id = ?", search)
    assert hub.call("GET", "/v1/integrations/credentials?project=search").status_code == 500
    # Turning it global is a change of a bound field.
    attacker_sql(hub, "DELETE FROM integration_project WHERE project_id = ?", search)
    attacker_sql(hub, "UPDATE integration SET is_global = ? WHERE id = ?", True, integration_id)
    assert hub.call("GET", "/v1/integrations/credentials?project=search").status_code == 500
    attacker_sql(hub, "UPDATE integration SET is_global = ? WHERE id = ?", False, integration_id)
    # Put back as the hub wrote it, it serves billing again; a PUT of the scope re-MACs.
    assert hub.call("GET", "/v1/integrations/credentials?project=billing").status_code == 200
    assert hub.call("PUT", f"/v1/integrations/{integration_id}",
                    json={"projects": ["billing", "search"]}).status_code == 200
    read = hub.call("GET", "/v1/integrations/credentials?project=search")
    assert [c["credentials"] for c in read.json["items"]] == [jira]


def test_normal_flows_keep_verifying(hub, slack):
    made = _create_slack(hub, slack)
    url = f"{BASE}/{made['id']}"
    assert hub.call("PUT", url, json={"config": {"api_base_url": slack.api_base_url,
                                                 "default_channel": "#ops"},
                                      "credentials": {"token": NEW_TOKEN}}).status_code == 200
    assert hub.call("PUT", url, json={"status": "inactive"}).status_code == 200
    assert hub.call("PUT", url, json={"status": "active", "name": "renamed"}).status_code == 200
    assert hub.call("POST", f"{url}:verifyConfig").json["ok"] is True
    copied = hub.call("POST", f"{BASE}/copy", json={
        "source_project_id": "payments", "source_integration_id": made["id"], "name": "copy"})
    assert copied.status_code == 201, copied.json
    runner = hub.app.test_cli_runner()
    assert runner.invoke(args=["crypto", "rotate"]).exit_code == 0
    assert runner.invoke(args=["crypto", "rewrap", "--retire"]).exit_code == 0, "rewrap"
    result = runner.invoke(args=["crypto", "rotate-root"])
    assert result.exit_code == 0, result.output
    # rotate-root with HUB_ROOT_KEY prints the new key; a new app on it reads everything.
    new_key = re.search(r"[A-Za-z0-9+/]{43}=", result.output).group(0)
    hub.app.config["ROOT_KEY"] = new_key
    hub.app.extensions["hub.keyring"]._keyring = None
    for integration_id in (made["id"], copied.json["id"]):
        served = hub.call("GET", f"{BASE}/{integration_id}/credentials")
        assert served.status_code == 200 and served.json["credentials"] == {"token": NEW_TOKEN}
    assert hub.call("POST", f"{url}:verifyConfig").json["ok"] is True
    assert hub.call("GET", "/v1/projects").status_code == 200  # the owner key still verifies


# -- finding 5: API keys ---------------------------------------------------------------------------

@pytest.mark.parametrize("change", ["permissions", "projects", "role", "org", "expiry", "revoked"])
def test_an_edited_api_key_is_401(hub, change, caplog):
    soon = datetime.datetime.utcnow() + datetime.timedelta(days=1)
    secret = hub.make_key(permissions=["integrations:read"], projects=["payments"], expires_at=soon)
    assert hub.call("GET", "/v1/projects/payments", key=secret).status_code == 200
    with in_db(hub):
        key = ApiKey.get((ApiKey.name != "owner"))
    if change == "revoked":
        assert hub.call("DELETE", f"/v1/api-keys/{key.id}").status_code in (200, 204)
        assert hub.call("GET", "/v1/projects/payments", key=secret).status_code == 401
        sql, params = "UPDATE api_key SET revoked_at = NULL WHERE id = ?", ()
    else:
        sql, params = {
            "permissions": ("UPDATE api_key SET permissions = ? WHERE id = ?",
                            (json.dumps(["integrations:read", "keys:admin", "secrets:access"]),)),
            "projects": ("UPDATE api_key SET projects = NULL WHERE id = ?", ()),
            "role": ("UPDATE api_key SET role = 'owner' WHERE id = ?", ()),
            "org": ("UPDATE api_key SET org_id = ? WHERE id = ?", (hub.make_org("globex")[0].id,)),
            "expiry": ("UPDATE api_key SET expires_at = ? WHERE id = ?",
                       (datetime.datetime(2099, 1, 1),)),
        }[change]
    assert attacker_sql(hub, sql, *params, key.id) == 1
    with caplog.at_level(logging.ERROR, logger="hub.integrity"):
        resp = hub.call("GET", "/v1/projects", key=secret)
    assert resp.status_code == 401 and "does not verify" in resp.json["detail"]
    assert key.public_id in caplog.text and secret not in caplog.text
    assert hub.call("GET", "/v1/projects").status_code == 200  # other keys are unaffected


def test_a_key_row_copied_over_another_does_not_verify(hub):
    weak = hub.make_key(permissions=["integrations:read"], name="weak")
    with in_db(hub):
        owner = ApiKey.get(ApiKey.name == "owner")
    # The weak key takes the owner's permissions and MAC: the MAC names the owner's id and hash.
    attacker_sql(hub, "UPDATE api_key SET role = ?, permissions = ?, integrity = ? WHERE name = ?",
                 owner.role, json.dumps(owner.permissions), owner.integrity, "weak")
    assert hub.call("GET", "/v1/projects", key=weak).status_code == 401


def test_get_and_list_refuse_an_altered_row(hub, slack):
    made = _create_slack(hub, slack)
    other = _create_slack(hub, slack, name="other")
    assert len(hub.call("GET", BASE).json["items"]) == 2
    attacker_sql(hub, "UPDATE integration SET config = ? WHERE id = ?",
                 json.dumps({"api_base_url": "http://127.0.0.1:9/api"}), made["id"])
    _refused(hub.call("GET", f"{BASE}/{made['id']}"), made["id"])
    _refused(hub.call("GET", BASE), made["id"])
    _refused(hub.call("GET", f"{BASE}?include_shared=true"), made["id"])
    assert hub.call("GET", f"{BASE}/{other['id']}").status_code == 200
    # Deleting needs no check: it is how the owner gets rid of the altered row.
    assert hub.call("DELETE", f"{BASE}/{made['id']}").status_code == 204
    assert [i["id"] for i in hub.call("GET", BASE).json["items"]] == [other["id"]]


def test_org_wide_get_and_list_refuse_an_altered_row_or_link(hub):
    assert hub.call("POST", "/v1/projects", json={"handle": "billing"}).status_code == 201
    jira = {"base_url": "https://acme.atlassian.net", "username": "bot@acme.test",
            "api_token": "jira-org-secret"}
    made = hub.call("POST", "/v1/integrations", json={
        "name": "company-jira", "provider": "jira", "credentials": jira, "projects": ["billing"]})
    integration_id = made.json["id"]
    assert hub.call("GET", f"/v1/integrations/{integration_id}").json["projects"] == ["billing"]
    attacker_sql(hub, "INSERT INTO integration_project (integration_id, project_id) VALUES (?, ?)",
                 integration_id, hub.project.id)
    assert hub.call("GET", f"/v1/integrations/{integration_id}").status_code == 500
    assert hub.call("GET", "/v1/integrations").status_code == 500
    attacker_sql(hub, "DELETE FROM integration_project WHERE project_id = ?", hub.project.id)
    attacker_sql(hub, "UPDATE integration SET status = 'inactive' WHERE id = ?", integration_id)
    assert hub.call("GET", f"/v1/integrations/{integration_id}").status_code == 500
    assert hub.call("GET", "/v1/integrations").status_code == 500
