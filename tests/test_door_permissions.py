"""Who may use each door and audit route: owner, member, app and custom keys, a key limited to
another project, and a key from another org; and a search for the plaintext everywhere but the
door and resolve."""
import json
import logging

import pytest

TOKEN = "xoxb-matrix-plaintext-token"
SECRET_VALUE = "matrix-secret-value"
OK, DENIED, HIDDEN = 200, 403, 404


@pytest.fixture
def world(hub):
    made = hub.call("POST", "/v1/projects/payments/integrations",
                    json={"name": "alerts", "provider": "slack", "credentials": {"token": TOKEN}})
    shared = hub.call("POST", "/v1/integrations", json={
        "name": "company", "provider": "slack", "credentials": {"token": TOKEN + "-org"}, "is_global": True})
    hub.call("POST", "/v1/projects", json={"handle": "other"})
    hub.call("POST", "/v1/projects/payments/secrets", json={"name": "db", "values": {"pw": SECRET_VALUE}})
    routes = {
        "door": f"/v1/projects/payments/integrations/{made.json['id']}/credentials",
        "door-list": "/v1/projects/payments/credentials",
        "shared-door": "/v1/integrations/credentials?project=payments",
        "project-audit": "/v1/projects/payments/audit-events",
        "org-audit": "/v1/audit-events",
        "checkpoints": "/v1/audit-checkpoints",
        "public-key": "/v1/audit-checkpoints/public-key",
    }
    _, foreign_owner = hub.make_org("elsewhere", "elsewhere-project")
    keys = {
        "owner": "owner",
        "member": hub.make_key(role="member"),
        "app": hub.make_key(role="app"),
        "custom-audit": hub.make_key(permissions=["audit:read"]),
        "custom-credentials": hub.make_key(permissions=["credentials:read"]),
        "other-project-owner": hub.make_key(role="owner", projects=["other"]),
        "foreign-owner": foreign_owner,
    }
    assert made.status_code == 201 and shared.status_code == 201
    return hub, routes, keys


EXPECTED = {  # key -> route -> status
    "owner": dict.fromkeys(["door", "door-list", "shared-door", "project-audit", "org-audit",
                            "checkpoints", "public-key"], OK),
    "member": {"door": DENIED, "door-list": DENIED, "shared-door": DENIED, "project-audit": OK,
               "org-audit": OK, "checkpoints": OK, "public-key": OK},
    "app": {"door": OK, "door-list": OK, "shared-door": OK, "project-audit": DENIED,
            "org-audit": DENIED, "checkpoints": DENIED, "public-key": DENIED},
    "custom-audit": {"door": DENIED, "door-list": DENIED, "shared-door": DENIED, "project-audit": OK,
                     "org-audit": OK, "checkpoints": OK, "public-key": OK},
    "custom-credentials": {"door": OK, "door-list": OK, "shared-door": OK, "project-audit": DENIED,
                           "org-audit": DENIED, "checkpoints": DENIED, "public-key": DENIED},
    # Reaches only "other": payments is invisible (404), the org's whole log is not its to read.
    "other-project-owner": {"door": HIDDEN, "door-list": HIDDEN, "shared-door": HIDDEN,
                            "project-audit": HIDDEN, "org-audit": DENIED, "checkpoints": OK,
                            "public-key": OK},
    "foreign-owner": {"door": HIDDEN, "door-list": HIDDEN, "shared-door": HIDDEN,
                      "project-audit": HIDDEN, "org-audit": OK, "checkpoints": OK, "public-key": OK},
}


def test_permission_matrix(world):
    hub, routes, keys = world
    seen = {who: {route: hub.call("GET", path, key=keys[who]).status_code
                  for route, path in routes.items()} for who in EXPECTED}
    assert seen == EXPECTED
    assert hub.call("GET", routes["door"], key=None).status_code == 401


def test_foreign_org_sees_none_of_this_orgs_events(world):
    hub, routes, keys = world
    foreign = hub.call("GET", "/v1/audit-events?limit=200", key=keys["foreign-owner"]).json["items"]
    assert foreign and all(e["project"] in (None, "elsewhere-project") for e in foreign)
    assert "payments" not in json.dumps(foreign)


def test_plaintext_leaves_only_through_the_door_and_resolve(world, caplog):
    hub, routes, keys = world
    caplog.set_level(logging.DEBUG)
    responses = []
    for who in EXPECTED:
        for route, path in routes.items():
            resp = hub.call("GET", path, key=keys[who])
            if not route.endswith("door") and route != "door-list":
                responses.append(resp.get_data(as_text=True))
    for path in ("/v1/projects/payments/integrations", "/v1/projects/payments/integrations?include_shared=true",
                 "/v1/integrations", "/v1/projects/payments/secrets", "/v1/projects/payments/secrets/db",
                 "/v1/projects/payments/secrets/db/versions", "/openapi.json",
                 "/v1/audit-events?limit=200", "/v1/projects/payments/audit-events?limit=200"):
        responses.append(hub.call("GET", path).get_data(as_text=True))
    resolved = hub.call("POST", "/v1/projects/payments/secrets:resolve", json={"template": "${secret:db.pw}"})
    assert resolved.json == {"result": SECRET_VALUE}
    member_resolve = hub.call("POST", "/v1/projects/payments/secrets:resolve", key=keys["member"],
                              json={"template": "${secret:db.pw}"})
    assert member_resolve.status_code == 403
    responses.append(member_resolve.get_data(as_text=True))
    everything = "\n".join(responses) + "\n".join(r.getMessage() for r in caplog.records)
    for plaintext in (TOKEN, SECRET_VALUE):
        assert plaintext not in everything
    denied = hub.call("GET", "/v1/projects/payments/audit-events?action=secret.resolve").json["items"]
    assert [e["outcome"] for e in denied][:2] == ["denied", "success"]
