"""401/403/404 rules, permissions, roles, project restriction, expiry and revocation."""
import datetime

import pytest

from hub.storage.models import ApiKey
from hub.tenancy import tokens as api_key_tokens


def test_missing_malformed_unknown_key_is_401(hub):
    assert hub.call("GET", "/v1/projects", key=None).status_code == 401
    assert hub.call("GET", "/v1/projects", key="not-a-key").status_code == 401
    # Well-formed (checksum right) but unknown.
    resp = hub.call("GET", "/v1/projects", key=api_key_tokens.new_secret())
    assert resp.status_code == 401
    assert resp.content_type == "application/problem+json"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    # A basic-auth header is not a bearer token.
    resp = hub.client.get("/v1/projects", headers={"Authorization": f"Basic {hub.owner_secret}"})
    assert resp.status_code == 401


def test_secret_checksum_rejects_a_typo_before_any_lookup():
    secret = api_key_tokens.new_secret()
    assert api_key_tokens.is_well_formed_secret(secret)
    flipped = secret[:-7] + ("A" if secret[-7] != "A" else "B") + secret[-6:]
    assert not api_key_tokens.is_well_formed_secret(flipped)
    assert not api_key_tokens.is_well_formed_secret("hub_sk_" + "a" * 38)


def test_key_without_permission_is_403(hub):
    member = hub.make_key(role="member")
    resp = hub.call("POST", "/v1/projects", key=member, json={"handle": "newproj"})
    assert resp.status_code == 403
    assert "projects:admin" in resp.json["detail"]
    assert hub.call("GET", "/v1/api-keys", key=member).status_code == 403


def test_other_org_gets_404_never_403(hub):
    other_org, other_owner = hub.make_org("globex", "rockets")
    # By handle and by id: the project exists, but in another org.
    for ref in (hub.project.handle, hub.project.id):
        assert hub.call("GET", f"/v1/projects/{ref}", key=other_owner).status_code == 404
        assert hub.call("DELETE", f"/v1/projects/{ref}", key=other_owner).status_code == 404
    key_id = hub.call("GET", "/v1/api-keys").json["items"][0]["id"]
    assert hub.call("GET", f"/v1/api-keys/{key_id}", key=other_owner).status_code == 404
    assert hub.call("DELETE", f"/v1/api-keys/{key_id}", key=other_owner).status_code == 404
    listed = hub.call("GET", "/v1/projects", key=other_owner).json["items"]
    assert [p["handle"] for p in listed] == ["rockets"]


def test_project_restricted_key_sees_only_its_projects(hub):
    hub.call("POST", "/v1/projects", json={"handle": "billing"})
    limited = hub.make_key(role="member", projects=["billing"])
    assert hub.call("GET", "/v1/projects/billing", key=limited).status_code == 200
    assert hub.call("GET", "/v1/projects/payments", key=limited).status_code == 404
    assert [p["handle"] for p in hub.call("GET", "/v1/projects", key=limited).json["items"]] == ["billing"]


def test_key_cannot_grant_what_it_lacks(hub):
    admin = hub.make_key(permissions=["keys:admin", "integrations:read"])
    resp = hub.call("POST", "/v1/api-keys", key=admin, json={"name": "x", "role": "owner"})
    assert resp.status_code == 403
    assert "cannot grant" in resp.json["detail"]
    ok = hub.call("POST", "/v1/api-keys", key=admin, json={"name": "y", "permissions": ["integrations:read"]})
    assert ok.status_code == 201
    assert ok.json["permissions"] == ["integrations:read"]
    assert ok.json["role"] is None


def test_project_limited_key_cannot_make_org_wide_key(hub):
    hub.call("POST", "/v1/projects", json={"handle": "billing"})
    limited = hub.make_key(role="owner", projects=["billing"])
    assert hub.call("POST", "/v1/api-keys", key=limited, json={"name": "wide"}).status_code == 403
    assert hub.call("POST", "/v1/api-keys", key=limited,
                    json={"name": "narrow", "projects": ["payments"]}).status_code == 400
    made = hub.call("POST", "/v1/api-keys", key=limited, json={"name": "narrow", "projects": ["billing"]})
    assert made.status_code == 201
    assert made.json["projects"] == ["billing"]
    # ...and it cannot create projects it would then not reach.
    assert hub.call("POST", "/v1/projects", key=limited, json={"handle": "zzz"}).status_code == 403


@pytest.mark.parametrize("role,allowed,denied", [
    ("member", ["integrations:read", "secrets:write", "audit:read"],
     ["projects:admin", "keys:admin", "credentials:read", "secrets:access"]),
    ("app", ["integrations:read", "credentials:read", "secrets:read", "secrets:access"],
     ["integrations:write", "secrets:write", "keys:admin", "projects:admin"]),
])
def test_role_presets(hub, role, allowed, denied):
    resp = hub.call("POST", "/v1/api-keys", json={"name": f"{role}-key", "role": role})
    assert resp.status_code == 201
    granted = set(resp.json["permissions"])
    assert set(allowed) <= granted
    assert not set(denied) & granted
    assert resp.json["role"] == role


def test_create_list_get_revoke(hub):
    created = hub.call("POST", "/v1/api-keys", json={"name": "ci", "role": "app"})
    assert created.status_code == 201
    body = created.json
    assert body["api_key"].startswith("hub_pk_") and body["secret"].startswith("hub_sk_")
    assert set(body) >= {"id", "name", "api_key", "secret", "role", "permissions", "projects",
                         "expires_at", "created_at"}
    assert body["projects"] is None
    secret = body["secret"]
    # The secret works, appears in no other response, and is not stored in plaintext.
    assert hub.call("GET", "/v1/projects", key=secret).status_code == 200
    listing = hub.call("GET", "/v1/api-keys")
    assert secret not in listing.get_data(as_text=True)
    assert "secret" not in listing.json["items"][0]
    one = hub.call("GET", f"/v1/api-keys/{body['id']}")
    assert one.status_code == 200 and "secret" not in one.json
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        row = ApiKey.get_by_id(body["id"])
        assert secret not in row.secret_hash and len(row.secret_hash) == 64
    assert hub.call("DELETE", f"/v1/api-keys/{body['id']}").status_code == 204
    resp = hub.call("GET", "/v1/projects", key=secret)
    assert resp.status_code == 401 and "revoked" in resp.json["detail"]
    assert hub.call("GET", f"/v1/api-keys/{body['id']}").json["revoked_at"].endswith("Z")


def test_duplicate_key_name_is_409(hub):
    assert hub.call("POST", "/v1/api-keys", json={"name": "dup"}).status_code == 201
    resp = hub.call("POST", "/v1/api-keys", json={"name": "dup"})
    assert resp.status_code == 409
    assert resp.json["errors"] == {"name": ["Already taken."]}


def test_expired_key_is_401(hub):
    soon = datetime.datetime.utcnow() + datetime.timedelta(seconds=1)
    secret = hub.make_key(role="member", expires_at=soon)
    assert hub.call("GET", "/v1/projects", key=secret).status_code == 200
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        ApiKey.update(expires_at=datetime.datetime.utcnow() - datetime.timedelta(seconds=1)).where(
            ApiKey.name != "owner").execute()
    resp = hub.call("GET", "/v1/projects", key=secret)
    assert resp.status_code == 401 and "expired" in resp.json["detail"]


def test_expires_at_in_the_past_is_400(hub):
    resp = hub.call("POST", "/v1/api-keys", json={"name": "old", "expires_at": "2001-01-01T00:00:00Z"})
    assert resp.status_code == 400
    assert "expires_at" in resp.json["errors"]


def test_cannot_revoke_a_stronger_key(hub):
    admin = hub.make_key(permissions=["keys:admin"])
    owner_id = hub.call("GET", "/v1/api-keys").json["items"][0]["id"]
    assert hub.call("DELETE", f"/v1/api-keys/{owner_id}", key=admin).status_code == 403
    assert hub.call("GET", "/v1/projects").status_code == 200


def test_uuid_shaped_handles_are_refused_and_ids_work(hub):
    resp = hub.call("POST", "/v1/projects", json={"handle": "01a20a8d-ee11-720a-b259-c08edea66c2d"})
    assert resp.status_code == 400 and "handle" in resp.json["errors"]
    assert hub.call("GET", f"/v1/projects/{hub.project.id}").json["handle"] == "payments"
