"""OWASP API Security Top 10 (2023), the authorization and authentication risks, walked over every
operation of /openapi.json (the table of what each needs is tests/owasp_routes.py):

- API1 broken object-level authorization: another org's key, and a key of this org limited to
  another project, get 404 for every object a path names;
- API5 broken function-level authorization: every operation x every role preset and every
  single-permission key answers 403 exactly when the key lacks what API.md says it needs;
- API2 broken authentication: no key, a malformed, unknown, revoked or expired key, a key in the
  query string or another scheme: 401 on every operation, before the body is parsed;
- API3 broken object-property-level authorization: a body naming a field that only responses
  have is refused (400 naming it), so read-only properties cannot be written.
"""
import datetime
import json

import pytest
from owasp_routes import ROUTES, build_world, operations, uniq

from hub.tenancy import permissions as perms


@pytest.fixture
def doc(hub):
    return hub.call("GET", "/openapi.json", key=None).json


def _call(hub, key, op, world, *, body=None, raw=None):
    url, default_body = op.request(world)
    if raw is not None:
        return hub.call(op.method, url, key=key, data=raw, headers={"Content-Type": "application/json"})
    return hub.call(op.method, url, key=key, json=body if body is not None else default_body)


def _protected(doc):
    return [op for op in operations(doc) if not op.public]


# --- API1: object level -----------------------------------------------------------------------
def test_api1_objects_of_another_org_or_an_unreached_project_are_404(hub, doc, fake_provider):
    world = build_world(hub, fake_provider)
    _, beta_owner = hub.make_org("beta", "beta-home")
    hub.call("POST", "/v1/projects", json={"handle": "elsewhere"})
    elsewhere = hub.make_key(role="owner", projects=["elsewhere"])
    walked = 0
    for op in _protected(doc):
        if not [name for name in op.params if name != "provider"] and op.route.query is None:
            continue  # names no object (providers are the hub's, not an org's)
        for who, key in (("org beta's owner", beta_owner), ("a key limited to 'elsewhere'", elsewhere)):
            resp = _call(hub, key, op, world)
            if op.route.org_level and key == elsewhere:
                # the org's OAuth apps name no project: readable, writable only by a key that
                # reaches every project (403)
                assert resp.status_code in ((200,) if op.method == "GET" else (403,)), (
                    who, op.method, op.path, resp.status_code)
                continue
            assert resp.status_code == 404, (who, op.method, op.path, resp.status_code, resp.json)
            assert resp.mimetype == "application/problem+json"
            walked += 1
    assert walked >= 2 * 25
    # and nothing was changed in org acme by those calls
    assert hub.call("GET", f"/v1/projects/{world.project}/secrets/db").json["current_version"] == 1
    assert hub.call("GET", f"/v1/api-keys/{world.key_id}").json["revoked_at"] is None


# --- API5: function level ---------------------------------------------------------------------
def _keys(hub):
    keys = {role: (hub.make_key(role=role), perms.ROLES[role]) for role in perms.ROLES}
    for permission in perms.ALL:
        keys[permission] = (hub.make_key(permissions=[permission]), frozenset({permission}))
    return keys


def test_api5_every_operation_and_role_answers_as_the_permission_table_says(hub, doc, fake_provider):
    world = build_world(hub, fake_provider)
    keys = _keys(hub)
    refused = allowed = 0
    for op in _protected(doc):
        for name, (secret, granted) in keys.items():
            resp = _call(hub, secret, op, world)
            where = (name, op.method, op.path, resp.status_code, resp.get_json(silent=True))
            assert resp.status_code < 500, where
            if op.route.needs <= granted:
                assert resp.status_code not in (401, 403), where
                if name == "owner":  # the table's requests are valid: the owner's succeed
                    assert resp.status_code < 300, where
                allowed += 1
                if op.route.destroys and resp.status_code < 300:
                    world = build_world(hub, fake_provider)
            else:
                assert resp.status_code == 403, where
                assert resp.mimetype == "application/problem+json", where
                refused += 1
    assert refused > 300 and allowed > 100, (refused, allowed)


def test_api5_an_app_key_never_writes_whatever_it_lists(hub, doc, fake_provider):
    world = build_world(hub, fake_provider)
    app_key = hub.make_key(role="app")
    for op in _protected(doc):
        if op.route.needs & perms.APP_NEVER:
            resp = _call(hub, app_key, op, world)
            assert resp.status_code == 403, (op.method, op.path, resp.status_code)


# --- API2: authentication ---------------------------------------------------------------------
def _revoked_and_expired(hub):
    made = hub.call("POST", "/v1/api-keys", json={"name": uniq("gone"), "role": "owner"}).json
    assert hub.call("DELETE", f"/v1/api-keys/{made['id']}").status_code == 204
    expired = hub.make_key(role="owner")
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        from hub.storage.models import ApiKey

        past = datetime.datetime(2020, 1, 1)
        ApiKey.update(expires_at=past).where(
            ApiKey.secret_hash == hub.app.extensions["hub.keyring"].get().hash_api_key_secret(expired)
        ).execute()
    return made["secret"], expired


def test_api2_every_operation_needs_a_valid_key_before_its_body_is_read(hub, doc, fake_provider):
    world = build_world(hub, fake_provider)
    revoked, expired = _revoked_and_expired(hub)
    unknown = "hub_sk_" + "A" * 38
    bad_keys = {"none": None, "malformed": "not-a-key", "unknown": unknown,
                "revoked": revoked, "expired": expired}
    for op in _protected(doc):
        for name, key in bad_keys.items():
            resp = _call(hub, key, op, world, raw="{not json" if op.method != "GET" else None)
            where = (name, op.method, op.path, resp.status_code)
            assert resp.status_code == 401, where
            assert resp.headers["WWW-Authenticate"] == 'Bearer realm="hub"', where
            assert resp.mimetype == "application/problem+json", where
        # a huge number or a deep body from nobody is a 401 too, never a 400 or a 500
        resp = _call(hub, None, op, world, raw='{"n": ' + "9" * 5000 + "}")
        assert resp.status_code == 401, (op.method, op.path, resp.status_code)


def test_api2_the_key_only_counts_as_a_bearer_header(hub):
    secret = hub.owner_secret
    assert hub.call("GET", "/v1/projects").status_code == 200
    for headers in ({"Authorization": f"Basic {secret}"}, {"Authorization": secret},
                    {"X-API-Key": secret}, {"Authorization": f"Bearer {secret}x"},
                    {"Authorization": f"Bearer {secret[:-1]}"}):
        assert hub.call("GET", "/v1/projects", key=None, headers=headers).status_code == 401, headers
    for query in (f"?api_key={secret}", f"?access_token={secret}"):
        assert hub.call("GET", f"/v1/projects{query}", key=None).status_code == 401
    # a secret sent where it does not belong is not echoed
    resp = hub.call("GET", f"/v1/projects?api_key={secret}", key=None)
    assert secret not in resp.get_data(as_text=True)


def test_api2_a_key_made_by_an_expiring_key_never_outlives_it(hub):
    """Red-team finding 2: an owner key expiring in 30 s made a child with no expiry."""
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)
    short = hub.call("POST", "/v1/api-keys", json={
        "name": "short", "role": "owner", "expires_at": soon.isoformat()}).json["secret"]
    for body in ({"name": "child", "role": "owner"}, {"name": "child", "expires_at": None},
                 {"name": "child", "expires_at": (soon + datetime.timedelta(days=365)).isoformat()}):
        resp = hub.call("POST", "/v1/api-keys", key=short, json=body)
        assert resp.status_code == 400 and "expires_at" in resp.json["errors"], (body, resp.json)
    ok = hub.call("POST", "/v1/api-keys", key=short, json={"name": "child", "expires_at": soon.isoformat()})
    assert ok.status_code == 201 and ok.json["expires_at"] is not None


def test_api1_a_project_limited_key_sees_no_key_beyond_its_projects(hub):
    """Red-team finding 3: nor the names of the projects it cannot reach."""
    for handle in ("billing", "hidden-search"):
        hub.call("POST", "/v1/projects", json={"handle": handle})
    limited = hub.make_key(role="owner", projects=["billing"])
    hub.make_key(role="member", projects=["hidden-search"], name="searcher")
    listed = hub.call("GET", "/v1/api-keys?limit=200", key=limited)
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    assert "hidden-search" not in text and "searcher" not in text and '"projects":null' not in text
    for item in listed.json["items"]:
        assert item["projects"] == ["billing"]
        assert hub.call("GET", f"/v1/api-keys/{item['id']}", key=limited).status_code == 200
    assert all(k["projects"] is not None for k in listed.json["items"])


# --- API3: object property level --------------------------------------------------------------
def _schema(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node or {}


def _properties(doc, node):
    node = _schema(doc, node)
    props = dict(node.get("properties", {}))
    for part in node.get("allOf", []) + node.get("anyOf", []):
        props.update(_properties(doc, part))
    return props


def _json_schema(doc, container):
    return ((container or {}).get("content", {}).get("application/json", {}).get("schema"))


def test_api3_fields_only_responses_have_cannot_be_written(hub, doc, fake_provider):
    world = build_world(hub, fake_provider)
    checked = []
    for op in _protected(doc):
        spec = doc["paths"][op.path][op.method.lower()]
        request_schema = _json_schema(doc, spec.get("requestBody"))
        if request_schema is None or op.route.body is None:
            continue
        written = set(_properties(doc, request_schema))
        shown = set()
        for status, answer in spec.get("responses", {}).items():
            if status.startswith("2"):
                shown |= set(_properties(doc, _json_schema(doc, answer)))
        for field in sorted(shown - written):
            body = {**op.route.body(world), field: "x"}
            resp = _call(hub, "owner", op, world, body=body)
            assert resp.status_code == 400, (op.method, op.path, field, resp.status_code)
            assert field in resp.json.get("errors", {}), (op.method, op.path, field, resp.json)
            checked.append((op.path, field))
    fields = {field for _, field in checked}
    assert {"id", "created_at", "secret", "api_key"} <= fields, fields
    # and the write was not half-done: the world is as it was
    assert json.loads(hub.call("GET", f"/v1/projects/{world.project}/secrets/db").data)["current_version"] == 1


def test_the_table_covers_exactly_the_documented_operations(doc):
    ops = operations(doc)
    assert len(ops) == len([k for k in ROUTES if k[1].startswith("/v1")])
