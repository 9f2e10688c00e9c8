"""Versioned secrets over the API, on SQLite and PostgreSQL: lifecycle, sha256, encryption at rest,
destruction, resolve, check-and-set, concurrency, permissions and tenancy."""
import datetime
import hashlib
import json
import logging
import threading
from pathlib import Path

import peewee
import pytest

from hub import crypto
from hub.crypto.canonical import canonical_json
from hub.secrets import store as secret_store
from hub.storage.models import Secret, SecretVersion

BASE = "/v1/projects/payments/secrets"
RESOLVE = "/v1/projects/payments/secrets:resolve"

# Values that must never show up anywhere but in a resolve result.
PLAIN = {
    "username": "svc-payments",
    "password": "hunter2-Pl41ntext-7f3a9c",
    "token": "tok-\u00fcnic\u00f8de-\u65e5\u672c-5d1e",
}


def create(hub, name="db", values=None, key="owner", **extra):
    return hub.call("POST", BASE, key=key, json={"name": name, "values": values or PLAIN, **extra})


def versions(hub, name="db", key="owner"):
    resp = hub.call("GET", f"{BASE}/{name}/versions?limit=200", key=key)
    assert resp.status_code == 200, resp.json
    return resp.json["items"]


def resolve(hub, template, key="owner"):
    return hub.call("POST", RESOLVE, key=key, json={"template": template})


def parse(ts: str) -> datetime.datetime:
    assert ts.endswith("Z")
    return datetime.datetime.fromisoformat(ts[:-1])


def in_db(hub):
    """A context in which models read the test's database directly."""
    import contextlib

    @contextlib.contextmanager
    def ctx():
        with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
            yield hub.app.extensions["hub.db"]

    return ctx()


def sha256_of(values) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode("utf-8")).hexdigest()


# -- lifecycle -------------------------------------------------------------------------------------

def test_create_then_metadata_only(hub):
    resp = create(hub, description="Payments database")
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["name"] == "db" and body["description"] == "Payments database"
    assert body["current_version"] == 1 and body["enabled_version"] == 1
    assert body["version"]["version"] == 1 and body["version"]["state"] == "ENABLED"
    assert body["version"]["sha256"] == sha256_of(PLAIN)

    got = hub.call("GET", f"{BASE}/db")
    assert got.status_code == 200
    assert set(got.json) == {"id", "name", "description", "current_version", "enabled_version",
                             "created_at", "updated_at"}
    assert got.json["id"] == body["id"]
    listed = hub.call("GET", BASE).json
    assert listed["has_more"] is False and listed["next_cursor"] is None
    assert [s["name"] for s in listed["items"]] == ["db"]
    one = hub.call("GET", f"{BASE}/db/versions/1").json
    assert set(one) == {"version", "state", "sha256", "created_at", "state_changed_at"}
    assert one["state"] == "ENABLED" and one["created_at"] == one["state_changed_at"]


def test_sha256_is_the_contracts(hub):
    values = {"b": "zw\u00f6lf \u00e9t\u00e9", "a": "\u65e5\u672c\u8a9e", "quote": 'a"b\\c', "empty": ""}
    expected = hashlib.sha256(json.dumps(values, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode("utf-8")).hexdigest()
    assert create(hub, values=values).json["version"]["sha256"] == expected
    assert hub.call("GET", f"{BASE}/db/versions/1").json["sha256"] == expected
    # The same values again: the same digest, so a client sees "no change" without seeing a value.
    again = hub.call("PUT", f"{BASE}/db", json={"values": dict(reversed(list(values.items())))})
    assert again.json["version"]["sha256"] == expected
    changed = hub.call("PUT", f"{BASE}/db", json={"values": {**values, "a": "x"}})
    assert changed.json["version"]["sha256"] != expected


def test_rotate_three_times_then_roll_back_to_1(hub):
    create(hub)
    for n in (2, 3, 4):
        resp = hub.call("PUT", f"{BASE}/db", json={"values": {**PLAIN, "password": f"pw-{n}"}})
        assert resp.status_code == 200, resp.json
        assert resp.json["current_version"] == n and resp.json["version"]["state"] == "ENABLED"
    states = {v["version"]: v["state"] for v in versions(hub)}
    assert states == {1: "DISABLED", 2: "DISABLED", 3: "DISABLED", 4: "ENABLED"}
    assert resolve(hub, "${secret:db.password}").json["result"] == "pw-4"

    before = hub.call("GET", f"{BASE}/db/versions/1").json
    rolled = hub.call("POST", f"{BASE}/db/versions/1:enable")
    assert rolled.status_code == 200, rolled.json
    assert rolled.json["state"] == "ENABLED"
    assert parse(rolled.json["state_changed_at"]) > parse(before["state_changed_at"])
    listed = versions(hub)
    assert [v["version"] for v in listed] == [1, 2, 3, 4]
    assert [v["version"] for v in listed if v["state"] == "ENABLED"] == [1]
    v4 = next(v for v in listed if v["version"] == 4)
    assert v4["state"] == "DISABLED" and v4["state_changed_at"] == rolled.json["state_changed_at"]
    meta = hub.call("GET", f"{BASE}/db").json
    assert meta["current_version"] == 4 and meta["enabled_version"] == 1
    assert resolve(hub, "${secret:db.password}").json["result"] == PLAIN["password"]
    # A rotation after a rollback continues the numbering.
    assert hub.call("PUT", f"{BASE}/db", json={"values": PLAIN}).json["current_version"] == 5


def test_disable_leaves_none_enabled_until_one_is(hub):
    create(hub)
    hub.call("PUT", f"{BASE}/db", json={"values": PLAIN})
    off = hub.call("POST", f"{BASE}/db/versions/2:disable")
    assert off.status_code == 200 and off.json["state"] == "DISABLED"
    assert all(v["state"] == "DISABLED" for v in versions(hub))
    assert hub.call("GET", f"{BASE}/db").json["enabled_version"] is None
    failed = resolve(hub, "${secret:db.password}")
    assert failed.status_code == 400
    assert "${secret:db.password}" in failed.json["detail"] and "no enabled version" in failed.json["detail"]
    assert hub.call("POST", f"{BASE}/db/versions/2:enable").status_code == 200
    assert resolve(hub, "${secret:db.password}").status_code == 200


def test_repeating_enable_or_disable_changes_nothing(hub):
    create(hub)
    first = hub.call("GET", f"{BASE}/db/versions/1").json
    again = hub.call("POST", f"{BASE}/db/versions/1:enable")
    assert again.status_code == 200 and again.json == first
    off = hub.call("POST", f"{BASE}/db/versions/1:disable").json
    off_again = hub.call("POST", f"{BASE}/db/versions/1:disable")
    assert off_again.status_code == 200 and off_again.json == off


def test_nonsense_operations_are_409(hub):
    create(hub)
    hub.call("PUT", f"{BASE}/db", json={"values": PLAIN})
    assert hub.call("POST", f"{BASE}/db/versions/1:destroy").status_code == 200
    twice = hub.call("POST", f"{BASE}/db/versions/1:destroy")
    assert twice.status_code == 409 and "already destroyed" in twice.json["detail"]
    assert twice.content_type == "application/problem+json"
    for verb in ("enable", "disable"):
        resp = hub.call("POST", f"{BASE}/db/versions/1:{verb}")
        assert resp.status_code == 409, verb
        assert "destroyed" in resp.json["detail"] and resp.json["state"] == "DESTROYED"
    # Nothing changed: version 2 is still the enabled one.
    assert [v["state"] for v in versions(hub)] == ["DESTROYED", "ENABLED"]


def test_missing_things_are_404(hub):
    create(hub)
    for path in (f"{BASE}/nope", f"{BASE}/nope/versions", f"{BASE}/db/versions/2",
                 f"{BASE}/db/versions/0", f"{BASE}/db/versions/99"):
        resp = hub.call("GET", path)
        assert resp.status_code == 404, path
        assert resp.content_type == "application/problem+json"
    for verb in ("enable", "disable", "destroy"):
        assert hub.call("POST", f"{BASE}/db/versions/7:{verb}").status_code == 404
        assert hub.call("POST", f"{BASE}/nope/versions/1:{verb}").status_code == 404
    assert hub.call("PUT", f"{BASE}/nope", json={"values": PLAIN}).status_code == 404
    assert hub.call("DELETE", f"{BASE}/nope").status_code == 404
    assert "no version 2" in hub.call("GET", f"{BASE}/db/versions/2").json["detail"]
    # Not a version number, or an unknown verb: no such route.
    assert hub.call("GET", f"{BASE}/db/versions/one").status_code == 404
    assert hub.call("POST", f"{BASE}/db/versions/1:explode").status_code == 404
    assert hub.call("GET", "/v1/projects/nope/secrets").status_code == 404


def test_colon_routes_do_not_collide(hub):
    create(hub)
    # `secrets:resolve` is not the secret named "resolve" nor the list; the list is not resolve.
    assert hub.call("GET", RESOLVE).status_code == 405
    assert hub.call("GET", f"{BASE}/resolve").status_code == 404
    assert create(hub, name="resolve").status_code == 201
    assert hub.call("GET", f"{BASE}/resolve").json["name"] == "resolve"
    assert resolve(hub, "${secret:resolve.username}").json == {"result": PLAIN["username"]}
    paths = hub.call("GET", "/openapi.json").json["paths"]
    for path in ("/v1/projects/{project}/secrets", "/v1/projects/{project}/secrets:resolve",
                 "/v1/projects/{project}/secrets/{name}", "/v1/projects/{project}/secrets/{name}/versions",
                 "/v1/projects/{project}/secrets/{name}/versions/{version}",
                 "/v1/projects/{project}/secrets/{name}/versions/{version}:enable",
                 "/v1/projects/{project}/secrets/{name}/versions/{version}:disable",
                 "/v1/projects/{project}/secrets/{name}/versions/{version}:destroy"):
        assert path in paths, path


def test_update_description_and_name_rules(hub):
    create(hub, description="old")
    kept = hub.call("PUT", f"{BASE}/db", json={"values": PLAIN})
    assert kept.json["description"] == "old"
    changed = hub.call("PUT", f"{BASE}/db", json={"values": PLAIN, "description": "new"})
    assert changed.json["description"] == "new"
    cleared = hub.call("PUT", f"{BASE}/db", json={"values": PLAIN, "description": None})
    assert cleared.json["description"] is None
    for bad in ("", "has space", "dot.ted", "x" * 101, "slash/y", "colon:y"):
        resp = create(hub, name=bad)
        assert resp.status_code == 400, bad
        assert "name" in resp.json["errors"]
    assert create(hub, name="A-b_9" + "x" * 95).status_code == 201


# -- validation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("values, field", [
    ({}, "values"),
    ([], "values"),
    ("a=b", "values"),
    (None, "values"),
    ({"API_KEY": 12345}, "values.API_KEY"),
    ({"ok": "x", "API_KEY": None}, "values.API_KEY"),
    ({"API_KEY": {"nested": "x"}}, "values.API_KEY"),
    ({"API_KEY": ["x"]}, "values.API_KEY"),
    ({"API_KEY": True}, "values.API_KEY"),
    ({"bad key": "x"}, "values.bad key"),
    ({"": "x"}, "values."),
    ({"k}": "x"}, "values.k}"),
])
def test_values_must_be_a_nonempty_object_of_strings(hub, values, field):
    resp = hub.call("POST", BASE, json={"name": "db", "values": values})
    assert resp.status_code == 400, resp.json
    assert resp.content_type == "application/problem+json"
    assert field in resp.json["errors"], resp.json
    assert field in resp.json["detail"]
    assert hub.call("GET", f"{BASE}/db").status_code == 404
    create(hub)
    resp = hub.call("PUT", f"{BASE}/db", json={"values": values})
    assert resp.status_code == 400 and field in resp.json["errors"]
    assert len(versions(hub)) == 1


def test_other_invalid_bodies_are_400(hub):
    assert hub.call("POST", BASE, json={"values": PLAIN}).status_code == 400  # no name
    assert hub.call("POST", BASE, json={"name": "db"}).status_code == 400  # no values
    unknown = hub.call("POST", BASE, json={"name": "db", "values": PLAIN, "colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.json["errors"]
    assert create(hub, description="d" * 501).status_code == 400
    huge = {"blob": "x" * (64 * 1024)}
    too_big = create(hub, values=huge)
    assert too_big.status_code == 400 and "values" in too_big.json["errors"]
    assert hub.call("POST", BASE, data="{not json", headers={"Content-Type": "application/json"},
                    ).status_code == 400
    create(hub)
    assert hub.call("PUT", f"{BASE}/db", json={"description": "only"}).status_code == 400
    assert resolve(hub, None).status_code == 400
    assert hub.call("POST", RESOLVE, json={}).status_code == 400


def test_name_is_unique_per_project_by_a_constraint(hub):
    assert create(hub).status_code == 201
    taken = create(hub)
    assert taken.status_code == 409 and taken.json["errors"] == {"name": ["Already taken."]}
    assert hub.call("POST", "/v1/projects", json={"handle": "billing"}).status_code == 201
    other = hub.call("POST", "/v1/projects/billing/secrets", json={"name": "db", "values": PLAIN})
    assert other.status_code == 201
    with in_db(hub):
        secret = Secret.get(Secret.name == "db", Secret.project == hub.project.id)
        with pytest.raises(peewee.IntegrityError):
            with Secret._meta.database.atomic():
                Secret.create(project=secret.project_id, name="db")
    # Deleted, the name is free again.
    assert hub.call("DELETE", f"{BASE}/db").status_code == 204
    assert create(hub).status_code == 201


def test_the_database_allows_one_enabled_version(hub):
    create(hub)
    hub.call("PUT", f"{BASE}/db", json={"values": PLAIN})
    with in_db(hub) as db:
        version_1 = SecretVersion.get(SecretVersion.version == 1)
        with pytest.raises(peewee.IntegrityError):
            with db.atomic():
                SecretVersion.update(state="ENABLED").where(SecretVersion.id == version_1.id).execute()
        with pytest.raises(peewee.IntegrityError):
            with db.atomic():
                SecretVersion.insert(secret=version_1.secret_id, project_id=version_1.project_id,
                                     version=2, state="DISABLED", sha256="0" * 64).execute()


# -- check-and-set ---------------------------------------------------------------------------------

def test_check_and_set(hub):
    create(hub)
    ok = hub.call("PUT", f"{BASE}/db", json={"values": PLAIN, "cas": 1})
    assert ok.status_code == 200 and ok.json["current_version"] == 2
    stale = hub.call("PUT", f"{BASE}/db", json={"values": {"password": "lost"}, "cas": 1})
    assert stale.status_code == 409
    assert stale.json["current_version"] == 2
    assert "newest version" in stale.json["detail"] and "2" in stale.json["detail"]
    assert [v["version"] for v in versions(hub)] == [1, 2]
    # After a rollback the newest is still what cas compares with.
    hub.call("POST", f"{BASE}/db/versions/1:enable")
    assert hub.call("PUT", f"{BASE}/db", json={"values": PLAIN, "cas": 1}).status_code == 409
    assert hub.call("PUT", f"{BASE}/db", json={"values": PLAIN, "cas": 2}).status_code == 200
    for bad in (0, -1, "3", 1.5, True):
        assert hub.call("PUT", f"{BASE}/db", json={"values": PLAIN, "cas": bad}).status_code == 400, bad


# -- resolve -------------------------------------------------------------------------------------

def test_resolve_several_references_and_escapes(hub):
    create(hub)
    create(hub, name="api", values={"key": "ak-123", "dotted.key": "dk"})
    template = ("postgres://${secret:db.username}:${secret:db.password}@db/app "
                "key=${secret:api.key} d=${secret:api.dotted.key} again=${secret:db.username} "
                "literal=$${secret:db.password} shell=${HOME} $$ {x} $")
    resp = resolve(hub, template)
    assert resp.status_code == 200, resp.json
    assert resp.json == {"result": (
        f"postgres://{PLAIN['username']}:{PLAIN['password']}@db/app key=ak-123 d=dk "
        f"again={PLAIN['username']} literal=${{secret:db.password}} shell=${{HOME}} $$ {{x}} $")}
    assert resolve(hub, "").json == {"result": ""}
    assert resolve(hub, "$${").json == {"result": "${"}
    # A value that looks like a reference is not expanded again.
    create(hub, name="tricky", values={"v": "${secret:db.password}"})
    assert resolve(hub, "${secret:tricky.v}").json == {"result": "${secret:db.password}"}


@pytest.mark.parametrize("template, named, why", [
    ("a ${secret:nope.x} b", "${secret:nope.x}", "no secret 'nope'"),
    ("${secret:db.nokey}", "${secret:db.nokey}", "no key 'nokey'"),
    ("${secret:db}", "${secret:db}", "not a reference"),
    ("${secret:db.password", "${secret:db.password", "not a reference"),
    ("${secret:bad name.x}", "${secret:bad name.x}", "not a reference"),
])
def test_resolve_names_the_bad_reference(hub, template, named, why):
    create(hub)
    resp = resolve(hub, "ok=${secret:db.username} " + template)
    assert resp.status_code == 400, resp.json
    assert named in resp.json["detail"] and why in resp.json["detail"]
    assert any(named in m for m in resp.json["errors"]["template"])
    for value in PLAIN.values():
        assert value not in resp.get_data(as_text=True)


def test_resolve_lists_every_bad_reference(hub):
    create(hub)
    create(hub, name="off")
    hub.call("POST", f"{BASE}/off/versions/1:disable")
    resp = resolve(hub, "${secret:nope.a} ${secret:db.zz} ${secret:off.password} ${secret:db.password}")
    assert resp.status_code == 400
    messages = resp.json["errors"]["template"]
    assert len(messages) == 3
    assert any("${secret:nope.a}" in m for m in messages)
    assert any("${secret:db.zz}" in m for m in messages)
    assert any("${secret:off.password}" in m and "no enabled version" in m for m in messages)


def test_resolve_reads_only_its_own_project(hub):
    create(hub)
    hub.call("POST", "/v1/projects", json={"handle": "billing"})
    resp = hub.call("POST", "/v1/projects/billing/secrets:resolve", json={"template": "${secret:db.password}"})
    assert resp.status_code == 400 and "no secret 'db' in project 'billing'" in resp.json["detail"]


# -- permissions and tenancy ---------------------------------------------------------------------

def test_permissions(hub):
    create(hub)
    member = hub.make_key(role="member")  # secrets:read and :write, not :access
    app = hub.make_key(role="app")  # secrets:read and :access, not :write
    nothing = hub.make_key(permissions=["integrations:read"])
    writer = hub.make_key(permissions=["secrets:write"])

    assert resolve(hub, "${secret:db.password}", key=member).status_code == 403
    assert "secrets:access" in resolve(hub, "${secret:db.password}", key=member).json["detail"]
    assert resolve(hub, "${secret:db.password}", key=app).json["result"] == PLAIN["password"]
    assert resolve(hub, "${secret:db.password}", key=writer).status_code == 403

    reads = [("GET", BASE), ("GET", f"{BASE}/db"), ("GET", f"{BASE}/db/versions"),
             ("GET", f"{BASE}/db/versions/1")]
    writes = [("POST", BASE, {"name": "x", "values": PLAIN}), ("PUT", f"{BASE}/db", {"values": PLAIN}),
              ("POST", f"{BASE}/db/versions/1:enable", None), ("POST", f"{BASE}/db/versions/1:disable", None),
              ("POST", f"{BASE}/db/versions/1:destroy", None), ("DELETE", f"{BASE}/db", None)]
    for method, path in reads:
        assert hub.call(method, path, key=app).status_code == 200, path
        assert hub.call(method, path, key=member).status_code == 200, path
        resp = hub.call(method, path, key=nothing)
        assert resp.status_code == 403 and "secrets:read" in resp.json["detail"], path
        assert hub.call(method, path, key=writer).status_code == 403, path
    for method, path, body in writes:
        resp = hub.call(method, path, key=app, json=body)
        assert resp.status_code == 403 and "secrets:write" in resp.json["detail"], path
        assert hub.call(method, path, key=nothing, json=body).status_code == 403, path
    assert [v["state"] for v in versions(hub)] == ["ENABLED"]  # nothing happened
    assert hub.call("PUT", f"{BASE}/db", key=member, json={"values": PLAIN}).status_code == 200
    assert hub.call("DELETE", f"{BASE}/db", key=writer).status_code == 204
    for method, path in reads:
        assert hub.call(method, path, key=None).status_code == 401


def test_other_orgs_and_other_projects_get_404(hub):
    create(hub)
    _, other_owner = hub.make_org("globex", "rockets")
    hub.call("POST", "/v1/projects", json={"handle": "billing"})
    limited = hub.make_key(role="owner", projects=["billing"])
    calls = [("GET", BASE, None), ("POST", BASE, {"name": "x", "values": PLAIN}),
             ("GET", f"{BASE}/db", None), ("PUT", f"{BASE}/db", {"values": PLAIN}),
             ("GET", f"{BASE}/db/versions", None), ("GET", f"{BASE}/db/versions/1", None),
             ("POST", f"{BASE}/db/versions/1:enable", None), ("POST", f"{BASE}/db/versions/1:disable", None),
             ("POST", f"{BASE}/db/versions/1:destroy", None), ("DELETE", f"{BASE}/db", None),
             ("POST", RESOLVE, {"template": "${secret:db.password}"})]
    for key in (other_owner, limited):
        for method, path, body in calls:
            for ref in ("payments", hub.project.id):
                resp = hub.call(method, path.replace("/payments/", f"/{ref}/"), key=key, json=body)
                assert resp.status_code == 404, (method, path, resp.json)
                assert PLAIN["password"] not in resp.get_data(as_text=True)
    # The other org's resolve finds only its own secrets, by project id too.
    assert hub.call("GET", "/v1/projects/rockets/secrets", key=other_owner).json["items"] == []
    assert [v["state"] for v in versions(hub)] == ["ENABLED"]


# -- plaintext stays sealed ----------------------------------------------------------------------

def _all_db_text(db) -> bytes:
    """Every cell of every table, as bytes (text UTF-8 encoded), joined."""
    chunks = []
    for table in db.get_tables():
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            for cell in row:
                if isinstance(cell, (bytes, bytearray, memoryview)):
                    chunks.append(bytes(cell))
                elif cell is not None:
                    chunks.append(str(cell).encode("utf-8"))
    return b"\x00".join(chunks)


def _rows_as_text(db) -> dict[str, str]:
    """Every row of every table as text, per table: PostgreSQL's own `row::text` (bytea shows as
    \\x hex); on SQLite each cell, blobs as hex. Lower case, to search for hex."""
    tables = {}
    for table in db.get_tables():
        if isinstance(db, peewee.PostgresqlDatabase):
            rows = [r[0] for r in db.execute_sql(f'SELECT t::text FROM "{table}" t').fetchall()]
        else:
            rows = ["|".join(bytes(c).hex() if isinstance(c, (bytes, memoryview)) else str(c) for c in row)
                    for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall()]
        tables[table] = "\n".join(rows).lower()
    return tables


def _plaintexts():
    return [v.encode("utf-8") for v in PLAIN.values()] + [canonical_json(PLAIN)]


def test_values_are_sealed_bound_to_their_row(hub):
    create(hub)
    create(hub, name="other", values={"x": "y"})
    with in_db(hub) as db:
        dump = _all_db_text(db)
        for plaintext in _plaintexts():
            assert plaintext not in dump
        row = SecretVersion.select().join(Secret).where(Secret.name == "db").get()
        other = SecretVersion.select().join(Secret).where(Secret.name == "other").get()
        assert row.values_key_id.startswith("dk_") and len(bytes(row.values_ciphertext)) > 40
        keyring = hub.app.extensions["hub.keyring"].get()
        assert secret_store.open_values(keyring, row) == PLAIN
        # Moved onto another row, the ciphertext does not open.
        with pytest.raises(crypto.DecryptionFailed):
            keyring.open_sealed(row.values_key_id, row.values_ciphertext, other.sealed_aad("values"))
        SecretVersion.update(values_ciphertext=row.values_ciphertext,
                             values_key_id=row.values_key_id).where(SecretVersion.id == other.id).execute()
    resp = resolve(hub, "${secret:other.password}")
    assert resp.status_code == 500 and resp.json["title"] == "Stored data unreadable"
    assert PLAIN["password"] not in resp.get_data(as_text=True)


def test_crypto_status_counts_secret_versions(hub):
    keyring = hub.app.extensions["hub.keyring"].get()
    with in_db(hub):
        before = sum(k["ciphertexts"] for k in keyring.status())
    create(hub)
    hub.call("PUT", f"{BASE}/db", json={"values": PLAIN})
    with in_db(hub):
        assert sum(k["ciphertexts"] for k in keyring.status()) == before + 2
    hub.call("POST", f"{BASE}/db/versions/1:destroy")
    with in_db(hub):
        assert sum(k["ciphertexts"] for k in keyring.status()) == before + 1


@pytest.fixture
def idle_reader(hub):
    """SQLite: another connection kept open (as a busy server's are), so the WAL file is not
    checkpointed and removed when the requests' connections close."""
    url = hub.app.config["DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        yield None
        return
    import sqlite3

    conn = sqlite3.connect(url[len("sqlite:///"):])
    conn.execute("SELECT count(*) FROM secret").fetchall()
    yield conn
    conn.close()


def _sqlite_files(hub) -> list[Path]:
    url = hub.app.config["DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        return []
    path = Path(url[len("sqlite:///"):])
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def test_destroy_erases_the_ciphertext_for_good(hub, idle_reader):
    create(hub, values={"password": "only-in-v1-Zq8"})
    hub.call("PUT", f"{BASE}/db", json={"values": PLAIN})
    with in_db(hub) as db:
        row = SecretVersion.get(SecretVersion.version == 1)
        old_ciphertext = bytes(row.values_ciphertext)
        sha = row.sha256
        # The scan below can see the ciphertext: before the destroy it finds it, in that one row.
        holding = [t for t, text in _rows_as_text(db).items() if old_ciphertext.hex() in text]
        assert holding == ["secret_version"]
        assert old_ciphertext in _all_db_text(db)

    resp = hub.call("POST", f"{BASE}/db/versions/1:destroy")
    assert resp.status_code == 200
    assert resp.json["state"] == "DESTROYED" and resp.json["sha256"] == sha == sha256_of({"password": "only-in-v1-Zq8"})
    assert parse(resp.json["state_changed_at"]) >= parse(resp.json["created_at"])
    assert hub.call("GET", f"{BASE}/db/versions/1").json["state"] == "DESTROYED"

    with in_db(hub) as db:
        raw = db.execute_sql("SELECT values_key_id, values_ciphertext, sha256, state FROM secret_version "
                             "WHERE version = 1").fetchone()
        assert raw[0] is None and raw[1] is None and raw[2] == sha and raw[3] == "DESTROYED"
        # Nor did the erase leave a copy anywhere else: no row of any table holds those bytes
        # (as bytes, or as hex in the row's text) or the plaintext.
        dump = _all_db_text(db)
        assert old_ciphertext not in dump and old_ciphertext[24:56] not in dump
        for table, text in _rows_as_text(db).items():
            assert old_ciphertext.hex() not in text and old_ciphertext[24:56].hex() not in text, table
            assert "only-in-v1-zq8" not in text, table
        for plaintext in _plaintexts() + [b"only-in-v1-Zq8"]:
            assert plaintext not in dump
    files = _sqlite_files(hub)
    if idle_reader is not None:
        assert any(f.name.endswith("-wal") for f in files)
    for path in files:
        data = path.read_bytes()
        for needle in [old_ciphertext, old_ciphertext[24:56], b"only-in-v1-Zq8"] + _plaintexts():
            assert needle not in data, (path.name, needle[:8])
    # Destroying the enabled version leaves none enabled.
    assert hub.call("POST", f"{BASE}/db/versions/2:destroy").json["state"] == "DESTROYED"
    assert hub.call("GET", f"{BASE}/db").json["enabled_version"] is None
    assert resolve(hub, "${secret:db.password}").status_code == 400


def test_delete_removes_every_version(hub, idle_reader):
    create(hub)
    hub.call("PUT", f"{BASE}/db", json={"values": PLAIN})
    with in_db(hub) as db:
        ciphertexts = [bytes(r.values_ciphertext) for r in SecretVersion.select()]
        before = "\n".join(_rows_as_text(db).values())
        assert len(ciphertexts) == 2 and all(c.hex() in before for c in ciphertexts)
    assert hub.call("DELETE", f"{BASE}/db").status_code == 204
    assert hub.call("GET", f"{BASE}/db").status_code == 404
    with in_db(hub) as db:
        assert SecretVersion.select().count() == 0 and Secret.select().count() == 0
        dump = _all_db_text(db)
        assert not any(c in dump for c in ciphertexts)
        after = "\n".join(_rows_as_text(db).values())
        assert not any(c.hex() in after for c in ciphertexts)
    for path in _sqlite_files(hub):
        data = path.read_bytes()
        assert not any(c in data for c in ciphertexts), path.name


def test_deleting_the_project_deletes_its_secrets(hub):
    hub.call("POST", "/v1/projects", json={"handle": "billing"})
    hub.call("POST", "/v1/projects/billing/secrets", json={"name": "db", "values": PLAIN})
    create(hub)
    assert hub.call("DELETE", "/v1/projects/billing").status_code == 204
    with in_db(hub):
        assert [s.name for s in Secret.select()] == ["db"]
        assert SecretVersion.select().count() == 1


def test_no_plaintext_in_any_other_response_or_log(hub, caplog):
    caplog.set_level(logging.DEBUG)
    bodies = []

    def call(method, path, **kw):
        resp = hub.call(method, path, **kw)
        bodies.append((method, path, resp.status_code, resp.get_data(as_text=True)))
        return resp

    call("POST", BASE, json={"name": "db", "values": PLAIN, "description": "d"})
    call("POST", BASE, json={"name": "db", "values": PLAIN})  # 409
    call("POST", BASE, json={"name": "bad", "values": {**PLAIN, "n": 1}})  # 400 next to real values
    call("POST", BASE, json={"name": "bad name", "values": PLAIN})
    call("PUT", f"{BASE}/db", json={"values": {**PLAIN, "password": PLAIN["password"] + "-2"}})
    call("PUT", f"{BASE}/db", json={"values": PLAIN, "cas": 1})  # 409
    call("PUT", f"{BASE}/db", json={"values": {"token": 7}})
    call("GET", BASE)
    call("GET", f"{BASE}/db")
    call("GET", f"{BASE}/db/versions")
    call("GET", f"{BASE}/db/versions/1")
    call("GET", f"{BASE}/db/versions/9")
    call("POST", f"{BASE}/db/versions/1:enable")
    call("POST", f"{BASE}/db/versions/2:disable")
    call("POST", f"{BASE}/db/versions/2:destroy")
    call("POST", f"{BASE}/db/versions/2:destroy")
    call("POST", RESOLVE, json={"template": "${secret:db.password} ${secret:db.nokey}"})  # 400
    call("POST", RESOLVE, json={"template": "${secret:db.password}"}, key=hub.make_key(role="member"))
    call("GET", "/openapi.json")
    call("DELETE", f"{BASE}/db")
    ok = hub.call("POST", BASE, json={"name": "again", "values": PLAIN})
    good = hub.call("POST", RESOLVE, json={"template": "${secret:again.password}"})
    assert good.json["result"] == PLAIN["password"]  # the one place a value is returned

    assert len(bodies) == 20 and ok.status_code == 201
    for method, path, status, text in bodies:
        for value in PLAIN.values():
            assert value not in text, (method, path, status)
            assert json.dumps(value)[1:-1] not in text, (method, path, status)  # nor JSON-escaped
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert caplog.records  # the SQL log was on
    for value in PLAIN.values():
        assert value not in logged


# -- pagination ----------------------------------------------------------------------------------

def test_lists_page_by_cursor(hub):
    names = [f"s{i}" for i in range(5)]
    for name in names:
        create(hub, name=name)
    seen, cursor = [], None
    while True:
        page = hub.call("GET", f"{BASE}?limit=2" + (f"&cursor={cursor}" if cursor else "")).json
        seen += [s["name"] for s in page["items"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == names

    for _ in range(4):
        hub.call("PUT", f"{BASE}/s0", json={"values": PLAIN})
    seen, cursor = [], None
    while True:
        page = hub.call("GET", f"{BASE}/s0/versions?limit=2" + (f"&cursor={cursor}" if cursor else "")).json
        seen += [v["version"] for v in page["items"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == [1, 2, 3, 4, 5]
    assert hub.call("GET", f"{BASE}?cursor=garbage!").status_code == 400
    assert hub.call("GET", f"{BASE}/s0/versions?cursor=garbage!").status_code == 400
    # A cursor of the secrets list is not one of the versions list.
    secrets_cursor = hub.call("GET", f"{BASE}?limit=1").json["next_cursor"]
    bad = hub.call("GET", f"{BASE}/s0/versions?cursor={secrets_cursor}")
    assert bad.status_code == 400 and "cursor" in bad.json["errors"]
    assert hub.call("GET", f"{BASE}?limit=0").status_code == 400
    assert hub.call("GET", f"{BASE}?limit=201").status_code == 400


# -- concurrency ---------------------------------------------------------------------------------

def _in_threads(count, work):
    """Run work(i) in `count` threads started together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    errors = []

    def run(i):
        try:
            barrier.wait(timeout=30)
            work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    if errors:
        raise errors[0]


def _auth(hub):
    return {"Authorization": f"Bearer {hub.owner_secret}"}


def test_concurrent_updates_make_consecutive_versions(hub):
    create(hub)
    rounds = 8
    clients = [hub.app.test_client() for _ in range(2)]
    statuses = [[], []]
    barrier = threading.Barrier(2)

    def work(i):
        for n in range(rounds):
            barrier.wait(timeout=30)
            resp = clients[i].put(f"{BASE}/db", headers=_auth(hub),
                                  json={"values": {"password": f"t{i}-r{n}"}})
            statuses[i].append((resp.status_code, resp.json.get("current_version")))

    _in_threads(2, work)
    assert all(status == 200 for s in statuses for status, _ in s), statuses
    written = sorted(v for s in statuses for _, v in s)
    assert written == list(range(2, 2 + 2 * rounds))
    listed = versions(hub)
    assert [v["version"] for v in listed] == list(range(1, 2 + 2 * rounds))
    enabled = [v["version"] for v in listed if v["state"] == "ENABLED"]
    assert enabled == [1 + 2 * rounds]
    meta = hub.call("GET", f"{BASE}/db").json
    assert meta["current_version"] == meta["enabled_version"] == 1 + 2 * rounds


def test_concurrent_check_and_set_lets_one_writer_win(hub):
    create(hub)
    clients = [hub.app.test_client() for _ in range(2)]
    for round_ in range(4):
        current = hub.call("GET", f"{BASE}/db").json["current_version"]
        results = [None, None]

        def work(i):
            results[i] = clients[i].put(f"{BASE}/db", headers=_auth(hub),
                                        json={"values": {"w": str(i)}, "cas": current})

        _in_threads(2, work)
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], (round_, [r.json for r in results])
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json["current_version"] == current + 1
    assert [v["version"] for v in versions(hub)] == [1, 2, 3, 4, 5]


def test_concurrent_rollbacks_leave_exactly_one_enabled(hub):
    create(hub)
    for _ in range(3):
        hub.call("PUT", f"{BASE}/db", json={"values": PLAIN})
    clients = [hub.app.test_client() for _ in range(4)]
    for _ in range(3):
        results = [None] * 4

        def work(i):
            # Four writers at once: three roll back to versions 1-3, one rotates.
            if i < 3:
                results[i] = clients[i].post(f"{BASE}/db/versions/{i + 1}:enable", headers=_auth(hub))
            else:
                results[i] = clients[i].put(f"{BASE}/db", headers=_auth(hub), json={"values": PLAIN})

        _in_threads(4, work)
        assert all(r.status_code == 200 for r in results), [r.json for r in results]
        listed = versions(hub)
        assert len([v for v in listed if v["state"] == "ENABLED"]) == 1
        meta = hub.call("GET", f"{BASE}/db").json
        assert meta["enabled_version"] == next(v["version"] for v in listed if v["state"] == "ENABLED")


# -- review findings: bounds, unstorable text, resolve sizes ---------------------------------------

HUGE = "99999999999999999999999"


def _cursor(after) -> str:
    return after.encode().hex()  # as the API writes a cursor (hub/storage/pagination.py)


def test_version_numbers_out_of_range_are_404_not_500(hub):
    create(hub)
    for number in (HUGE, str(2**63), str(2**31), "2147483648"):
        resp = hub.call("GET", f"{BASE}/db/versions/{number}")
        assert resp.status_code == 404, (number, resp.status_code)
        assert resp.content_type == "application/problem+json"
        for verb in ("enable", "disable", "destroy"):
            resp = hub.call("POST", f"{BASE}/db/versions/{number}:{verb}")
            assert resp.status_code == 404, (number, verb, resp.status_code)
    assert [v["state"] for v in versions(hub)] == ["ENABLED"]
    # The largest number a version can have is still just "not there".
    assert hub.call("GET", f"{BASE}/db/versions/{2**31 - 1}").status_code == 404


def test_forged_versions_cursor_is_400_naming_cursor(hub):
    create(hub)
    for after in (HUGE, str(2**63), str(2**31), "0", "-1", "+1", " 1", "1_0", "1.5", "٣"):
        resp = hub.call("GET", f"{BASE}/db/versions?cursor={_cursor(after)}")
        assert resp.status_code == 400, (after, resp.status_code)
        assert "cursor" in resp.json["errors"], after
    # A well-formed one still works.
    hub.call("PUT", f"{BASE}/db", json={"values": PLAIN})
    page = hub.call("GET", f"{BASE}/db/versions?cursor={_cursor('1')}").json
    assert [v["version"] for v in page["items"]] == [2]
    page = hub.call("GET", f"{BASE}/db/versions?cursor={_cursor(str(2**31 - 1))}").json
    assert page["items"] == []


def _domain(hub):
    """(keyring, the org's operator) for calling secret_store directly, as the CLI does."""
    from hub import tenancy
    return hub.app.extensions["hub.keyring"].get(), tenancy.operator(hub.org)


@pytest.mark.parametrize("bad", ["a\x00b", "lone \ud800 surrogate", "\udcff"])
def test_domain_refuses_unstorable_description(hub, bad):
    """The domain refuses it by itself (the CLI has no JSON-body guard in front of it)."""
    create(hub)
    with in_db(hub):
        keyring, operator = _domain(hub)
        with pytest.raises(secret_store.InvalidInput) as caught:
            secret_store.create_secret(keyring, operator, hub.project.id, name="x", values={"a": "b"},
                                       description=bad)
        assert set(caught.value.errors) == {"description"}
        with pytest.raises(secret_store.InvalidInput) as caught:
            secret_store.update_secret(keyring, operator, hub.project.id, "db", values={"a": "b"},
                                       description=bad)
        assert set(caught.value.errors) == {"description"}
        assert Secret.select().where(Secret.name == "x").count() == 0
        assert SecretVersion.select().count() == 1
    # Over the API as well (whichever layer answers): a 400 naming the field.
    resp = create(hub, name="y", description=bad)
    assert resp.status_code == 400 and "description" in resp.json["errors"]


@pytest.mark.parametrize("value", ["a\x00b", "\x00", "x\ud800", "\udcff"])
def test_domain_refuses_nul_and_lone_surrogates_in_values(hub, value):
    """Decision: values are text; NUL and lone surrogates are refused as the API refuses them."""
    with in_db(hub):
        keyring, operator = _domain(hub)
        with pytest.raises(secret_store.InvalidInput) as caught:
            secret_store.create_secret(keyring, operator, hub.project.id, name="x",
                                       values={"ok": "fine", "k": value})
        assert set(caught.value.errors) == {"values.k"}
        assert Secret.select().count() == 0
        # Templates follow the same rule.
        with pytest.raises(secret_store.InvalidInput) as caught:
            secret_store.resolve(keyring, operator, hub.project.id, f"x {value} y")
        assert set(caught.value.errors) == {"template"}
    resp = create(hub, name="x", values={"ok": "fine", "k": value})
    assert resp.status_code == 400 and any(f.startswith("values") for f in resp.json["errors"])


def test_unstorable_key_is_named_printably(hub):
    with in_db(hub):
        keyring, operator = _domain(hub)
        for key in ("a\x00b", "a\ud800b"):
            with pytest.raises(secret_store.InvalidInput) as caught:
                secret_store.create_secret(keyring, operator, hub.project.id, name="x",
                                           values={key: "v"})
            (field,) = caught.value.errors
            assert field.startswith("values.a") and secret_store.unstorable(field) is None
            assert secret_store.unstorable(caught.value.detail) is None


def test_resolve_refuses_a_result_over_the_limit_without_building_it(hub):
    import tracemalloc

    big = "v" * (60 * 1024)
    create(hub, name="big", values={"v": big, "e": ""})
    count = 200  # 12 MB of result if it were built
    template = "${secret:big.v}" * count
    with in_db(hub):
        keyring, operator = _domain(hub)
        tracemalloc.start()
        try:
            with pytest.raises(secret_store.InvalidInput) as caught:
                secret_store.resolve(keyring, operator, hub.project.id, template)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "template" in caught.value.errors and "exceed" in caught.value.detail
    assert peak < secret_store.MAX_RESULT_CHARS, peak  # not even one limit's worth was built
    resp = resolve(hub, template)
    assert resp.status_code == 400 and "exceed" in resp.json["detail"]
    assert big not in resp.get_data(as_text=True)
    # Just under the limit still resolves; one character more does not.
    fits = secret_store.MAX_RESULT_CHARS // len(big)
    tail = "x" * (secret_store.MAX_RESULT_CHARS - fits * len(big))
    assert len(resolve(hub, "${secret:big.v}" * fits + tail).json["result"]) == secret_store.MAX_RESULT_CHARS
    assert resolve(hub, "${secret:big.v}" * fits + tail + "x").status_code == 400
    # References that resolve to "" shrink the template's text: a full result followed by many of
    # them still fits (a running total of template length plus growth so far would refuse it).
    empties = (secret_store.MAX_TEMPLATE_CHARS - 20 * 15 - len(tail)) // len("${secret:big.e}")
    shrinking = "${secret:big.v}" * fits + "${secret:big.e}" * empties + tail
    assert len(shrinking) <= secret_store.MAX_TEMPLATE_CHARS
    assert len(resolve(hub, shrinking).json["result"]) == secret_store.MAX_RESULT_CHARS


def test_resolve_error_lists_at_most_20_problems(hub):
    create(hub)
    malformed = 23_000
    template = "${secret:x}" * malformed + " ${secret:nope.a} ${secret:db.zz}"
    assert len(template) <= secret_store.MAX_TEMPLATE_CHARS
    resp = resolve(hub, template)
    assert resp.status_code == 400
    listed = resp.json["errors"]["template"]
    assert len(listed) == 21
    assert listed[-1] == f"…and {malformed + 2 - 20} more."
    assert all("${secret:x}" in m for m in listed[:20])
    assert resp.json["detail"].endswith(f"…and {malformed + 2 - 20} more.")
    assert resp.json["detail"].count("${secret:x}") == 20
    assert len(resp.get_data()) < 10_000
    # Twenty exactly: no "more" line.
    exact = resolve(hub, "${secret:x}" * 20)
    assert len(exact.json["errors"]["template"]) == 20 and "more" not in exact.json["detail"]
