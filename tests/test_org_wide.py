"""Org-wide integrations across three projects, on SQLite and PostgreSQL: who sees them, who may
change them, the credentials each project reads, and deletion from every project at once."""
import pytest

TOKEN = "xoxb-org-wide-secret-token"
JIRA = {"base_url": "https://acme.atlassian.net", "username": "bot@acme.test", "api_token": "jira-org-secret"}


@pytest.fixture
def three(hub):
    for handle in ("billing", "search"):
        assert hub.call("POST", "/v1/projects", json={"handle": handle}).status_code == 201
    return hub


def _create(hub, key="owner", **scope):
    body = {"name": "company-jira", "provider": "jira", "credentials": JIRA} | scope
    return hub.call("POST", "/v1/integrations", key=key, json=body)


def test_exactly_one_scope_and_every_project_must_exist(three):
    assert _create(three).status_code == 400
    both = _create(three, is_global=True, projects=["billing"])
    assert both.status_code == 400 and "is_global" in both.json["errors"]
    missing = _create(three, projects=["billing", "nowhere"])
    assert missing.status_code == 400 and "projects.1" in missing.json["errors"]


def test_shared_with_named_projects_only(three):
    made = _create(three, projects=["billing", "payments"])
    assert made.status_code == 201, made.json
    record = made.json
    assert record["project"] is None and record["is_global"] is False
    assert record["projects"] == ["billing", "payments"] and JIRA["api_token"] not in str(record)
    for handle, expected in (("payments", True), ("billing", True), ("search", False)):
        listed = three.call("GET", f"/v1/projects/{handle}/integrations?include_shared=true").json["items"]
        assert ([i["id"] for i in listed if i["shared"]] == [record["id"]]) is expected
        plain = three.call("GET", f"/v1/projects/{handle}/integrations").json["items"]
        assert plain == []
        creds = three.call("GET", f"/v1/integrations/credentials?project={handle}")
        assert creds.status_code == 200 and creds.headers["Cache-Control"] == "no-store"
        assert ([c["credentials"] for c in creds.json["items"]] == [JIRA]) is expected
    assert three.call("POST", "/v1/integrations", json={
        "name": "company-jira", "provider": "jira", "credentials": JIRA, "is_global": True}).status_code == 409


def test_global_applies_everywhere_and_delete_removes_it_everywhere(three):
    made = _create(three, is_global=True).json
    for handle in ("payments", "billing", "search"):
        items = three.call("GET", f"/v1/projects/{handle}/integrations?include_shared=true").json["items"]
        assert [i["id"] for i in items] == [made["id"]]
    assert three.call("DELETE", f"/v1/integrations/{made['id']}").status_code == 204
    for handle in ("payments", "billing", "search"):
        assert three.call("GET", f"/v1/projects/{handle}/integrations?include_shared=true").json["items"] == []
    assert three.call("GET", f"/v1/integrations/{made['id']}").status_code == 404


def test_a_project_limited_key_names_only_projects_it_reaches(three):
    limited = three.make_key(role="owner", projects=["billing"])
    assert _create(three, key=limited, is_global=True).status_code == 403
    assert _create(three, key=limited, projects=["payments"]).status_code == 400  # not visible to it
    own = _create(three, key=limited, projects=["billing"])
    assert own.status_code == 201
    wide = three.call("POST", "/v1/integrations", json={"name": "payments-only", "provider": "jira",
                                                        "credentials": JIRA, "projects": ["payments"]}).json
    # The limited key sees what applies to billing, not what only payments uses.
    seen = [i["id"] for i in three.call("GET", "/v1/integrations", key=limited).json["items"]]
    assert seen == [own.json["id"]]
    assert three.call("GET", f"/v1/integrations/{wide['id']}", key=limited).status_code == 404
    # A key cannot change one that is shared beyond its reach.
    both = three.call("PUT", f"/v1/integrations/{own.json['id']}", json={"projects": ["billing", "search"]}).json
    assert both["projects"] == ["billing", "search"]
    assert three.call("PUT", f"/v1/integrations/{own.json['id']}", key=limited,
                      json={"display_name": "x"}).status_code == 403


def test_update_scope_verify_and_audit(three, fake_provider):
    fake_provider.expect_request("/rest/api/3/myself").respond_with_json(
        {"accountId": "a1", "displayName": "Bot", "active": True})
    creds = JIRA | {"base_url": fake_provider.base_url}
    made = three.call("POST", "/v1/integrations", json={
        "name": "j", "provider": "jira", "credentials": creds, "projects": ["search"]}).json
    moved = three.call("PUT", f"/v1/integrations/{made['id']}", json={"is_global": True})
    assert moved.status_code == 200 and moved.json["is_global"] and moved.json["projects"] is None
    checked = three.call("POST", f"/v1/integrations/{made['id']}:verifyConfig")
    assert checked.status_code == 200 and checked.json["ok"], checked.json
    actions = [e["action"] for e in three.call("GET", "/v1/audit-events?limit=20").json["items"]]
    assert actions[:3] == ["integration.verify", "integration.update", "integration.create"]
    three.call("GET", "/v1/integrations/credentials?project=billing")
    read = three.call("GET", "/v1/projects/billing/audit-events?action=integration.credentials.read").json["items"]
    assert read and read[0]["target_id"] == made["id"] and read[0]["project"] == "billing"


def test_a_limited_key_sees_only_the_projects_it_reaches_and_a_project_delete_takes_what_only_it_used(three):
    made = _create(three, projects=["billing", "search"]).json
    alone = three.call("POST", "/v1/integrations", json={
        "name": "billing-only", "provider": "jira", "credentials": JIRA, "projects": ["billing"]}).json
    limited = three.make_key(role="member", projects=["billing"])
    seen = three.call("GET", f"/v1/integrations/{made['id']}", key=limited).json
    assert seen["projects"] == ["billing"]  # nothing of "search"
    listed = three.call("GET", "/v1/projects/billing/integrations?include_shared=true", key=limited).json
    assert all(i.get("projects") in (None, ["billing"]) for i in listed["items"])
    assert three.call("DELETE", "/v1/projects/billing").status_code == 204
    assert three.call("GET", f"/v1/integrations/{alone['id']}").status_code == 404
    assert three.call("GET", f"/v1/integrations/{made['id']}").json["projects"] == ["search"]
    deleted = three.call("GET", "/v1/audit-events?action=integration.delete").json["items"]
    assert deleted[0]["target_id"] == alone["id"] and "billing" in deleted[0]["details"]["reason"]
