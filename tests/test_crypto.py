"""hub.crypto: root key, keyring, sealing. Every database test runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import base64
import contextvars
import os
import pickle
import stat
import threading
import uuid

import peewee
import psycopg2
import pytest

from hub import crypto
from hub.crypto import (
    DecryptionFailed,
    KeyRing,
    KeyRingCorrupt,
    KeyRingMissing,
    RootKeyError,
    RootKeyMismatch,
    Sealed,
    create_root_key_file,
    load_root_key,
)
from hub.crypto import keyring as keyring_impl
from hub.storage import models
from hub.storage.models import KeyringEntry, bound, database

PG = {"host": os.environ.get("HUB_TEST_PGHOST", "127.0.0.1"), "port": 5432, "user": "postgres"}


class SealedThing(peewee.Model):
    """A stand-in for a model with a sealed column pair, to check `status()` counts."""

    secret_key_id = peewee.CharField(max_length=32, null=True)
    secret_ciphertext = peewee.BlobField(null=True)

    class Meta:
        database = database
        table_name = "test_sealed_thing"


@pytest.fixture(scope="module")
def postgres_database():
    """A uniquely named PostgreSQL database for this module, dropped afterwards."""
    try:
        admin = psycopg2.connect(dbname="postgres", connect_timeout=5, **PG)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL on {PG['host']}:{PG['port']} unavailable: {exc}")
    admin.autocommit = True
    name = f"hub_test_crypto_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path, monkeypatch):
    """The models' database proxy bound to a fresh database (PostgreSQL: fresh tables; creating a
    database per test costs ~0.3 s). Only the keyring's tables exist here, so no sealed columns."""
    monkeypatch.setattr(models, "SEALED_COLUMNS", [])
    if request.param == "sqlite":
        db = peewee.SqliteDatabase(str(tmp_path / "t.db"),
                                   pragmas={"journal_mode": "wal", "foreign_keys": 1})
    else:
        db = peewee.PostgresqlDatabase(request.getfixturevalue("postgres_database"), **PG)
    try:
        with bound(db):
            database.drop_tables([KeyringEntry, SealedThing], safe=True)
            database.create_tables([KeyringEntry, SealedThing])
            yield db
    finally:
        db.close()


@pytest.fixture
def root_key():
    return os.urandom(32)


@pytest.fixture
def keyring(db, root_key):
    return KeyRing.initialize(root_key)


def keyring_rows():
    return sorted((r.id, r.purpose, r.state, bytes(r.wrapped)) for r in KeyringEntry.select())


def in_threads(count, target):
    """Run target(i) in `count` threads started together; each closes its own connection."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            database.close()

    # Each thread runs in a copy of this context: the same database bound.
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(run, i))
               for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def key_material(keyring, root_key):
    """Every key a keyring holds, and its mac key, in the encodings a leak would take."""
    raw = [root_key, *keyring._keys.data.values(), keyring._keys.fingerprint_key, keyring._keys.pepper]
    mac = KeyringEntry.get_by_id(keyring_impl.MAC_KEY_ID)
    raw.append(keyring_impl._unwrap(root_key, mac.id, mac.purpose, mac.wrapped))
    forms = []
    for key in raw:
        forms += [key.hex(), base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode(),
                  base64.b64encode(key).decode().rstrip("="), repr(key), key.hex()[:16]]
    return forms


def assert_no_material(text, forms):
    for form in forms:
        assert form not in text


# --- sealing --------------------------------------------------------------------------------------

def test_round_trip(keyring):
    aad = b"integration:1:credentials"
    for plaintext in (b"", b"xoxb-123", os.urandom(100_000)):
        sealed = keyring.seal(plaintext, aad)
        assert isinstance(sealed, Sealed)
        assert sealed.key_id == keyring._keys.primary_id
        assert keyring.open_sealed(sealed.key_id, sealed.ciphertext, aad) == plaintext
        key_id, ciphertext = sealed  # unpacks like the column pair it is stored as
        assert keyring.open_sealed(key_id, memoryview(ciphertext), aad) == plaintext


def test_round_trip_through_the_database(keyring):
    sealed = keyring.seal(b"token", b"aad")
    row = SealedThing.create(secret_key_id=sealed.key_id, secret_ciphertext=sealed.ciphertext)
    row = SealedThing.get_by_id(row.id)
    assert keyring.open_sealed(row.secret_key_id, row.secret_ciphertext, b"aad") == b"token"


def test_wrong_aad_fails(keyring):
    sealed = keyring.seal(b"secret", b"integration:1")
    with pytest.raises(DecryptionFailed) as excinfo:
        keyring.open_sealed(sealed.key_id, sealed.ciphertext, b"integration:2")
    assert sealed.key_id in str(excinfo.value)
    assert "secret" not in str(excinfo.value)
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


@pytest.mark.parametrize("tamper", [
    lambda c: bytes([c[0] ^ 1]) + c[1:],  # nonce
    lambda c: c[:30] + bytes([c[30] ^ 0x80]) + c[31:],  # body
    lambda c: c[:-1] + bytes([c[-1] ^ 1]),  # tag
    lambda c: c[:-1],  # truncated
    lambda c: c[:20],  # shorter than nonce + tag
    lambda c: c + b"\x00",  # extended
    lambda c: b"",
])
def test_tampered_ciphertext_fails(keyring, tamper):
    sealed = keyring.seal(b"a credential of some length", b"aad")
    with pytest.raises(DecryptionFailed, match=sealed.key_id):
        keyring.open_sealed(sealed.key_id, tamper(sealed.ciphertext), b"aad")


def test_ciphertext_is_bound_to_its_key_id(keyring):
    sealed = keyring.seal(b"x", b"aad")
    other = keyring.rotate()
    with pytest.raises(DecryptionFailed, match=other):
        keyring.open_sealed(other, sealed.ciphertext, b"aad")


@pytest.mark.parametrize("key_id", ["dk_000000000000", "nonsense", "mac", ""])
def test_unknown_key_id_fails(keyring, key_id):
    sealed = keyring.seal(b"x", b"aad")
    with pytest.raises(DecryptionFailed) as excinfo:
        keyring.open_sealed(key_id, sealed.ciphertext, b"aad")
    assert f"data key {key_id}:" in str(excinfo.value)


def test_each_seal_has_a_new_nonce(keyring):
    ciphertexts = [keyring.seal(b"same plaintext", b"same aad").ciphertext for _ in range(50)]
    assert len(set(ciphertexts)) == 50
    assert len({c[:24] for c in ciphertexts}) == 50
    assert all(len(c) == 24 + len(b"same plaintext") + 16 for c in ciphertexts)


def test_seal_requires_bytes(keyring):
    with pytest.raises(TypeError):
        keyring.seal("text", b"aad")
    with pytest.raises(TypeError):
        keyring.seal(b"x", "aad")


# --- rotation -------------------------------------------------------------------------------------

def test_rotate_keeps_old_keys_opening(keyring):
    first = keyring.seal(b"before", b"aad")
    new_id = keyring.rotate()
    assert keyring_impl._DATA_KEY_ID.match(new_id) and new_id != first.key_id
    second = keyring.seal(b"after", b"aad")
    assert second.key_id == new_id
    assert keyring.open_sealed(*first, b"aad") == b"before"
    assert keyring.open_sealed(*second, b"aad") == b"after"
    states = {row["id"]: row["state"] for row in keyring.status()}
    assert states == {first.key_id: "active", new_id: "primary"}
    assert KeyringEntry.select().where(KeyringEntry.purpose == "mac").count() == 1


def test_another_process_sees_rotation_at_once(keyring, root_key):
    other = KeyRing.load(root_key)  # another server process over the same database
    old = other.seal(b"old", b"aad")
    # The rotation happens on another thread, hence another connection, as `hub crypto rotate` would.
    [new_id] = in_threads(1, lambda i: keyring.rotate())
    sealed = other.seal(b"new", b"aad")
    assert sealed.key_id == new_id
    assert keyring.open_sealed(*sealed, b"aad") == b"new"
    # ... and opens what the rotating process sealed with a key it has not loaded yet.
    third = KeyRing.load(root_key)
    newer = keyring.rotate()
    from_rotator = keyring.seal(b"newest", b"aad")
    assert from_rotator.key_id == newer
    assert third.open_sealed(*from_rotator, b"aad") == b"newest"
    assert third.open_sealed(*old, b"aad") == b"old"
    assert repr(third) == repr(keyring)


def test_concurrent_rotations_leave_one_primary(keyring):
    new_ids = in_threads(4, lambda i: keyring.rotate())
    assert len(set(new_ids)) == 4
    states = [row["state"] for row in keyring.status()]
    assert states.count("primary") == 1 and states.count("active") == 4
    assert keyring.seal(b"x", b"a").key_id in new_ids


def test_threads_sealing_through_a_rotation(keyring, root_key):
    shared = KeyRing.load(root_key)

    def work(i):
        if i == 0:
            return [keyring.rotate() for _ in range(3)]
        return [shared.seal(f"{i}-{n}".encode(), b"aad") for n in range(20)]

    results = in_threads(6, work)
    for i, sealed_list in enumerate(results[1:], start=1):
        for n, sealed in enumerate(sealed_list):
            assert shared.open_sealed(*sealed, b"aad") == f"{i}-{n}".encode()
    assert shared.seal(b"x", b"aad").key_id == results[0][-1]


def test_status_counts_ciphertexts(keyring, monkeypatch):
    monkeypatch.setattr(models, "SEALED_COLUMNS", [(SealedThing, "secret")])
    old = keyring._keys.primary_id
    for _ in range(3):
        SealedThing.create(**dict(zip(("secret_key_id", "secret_ciphertext"), keyring.seal(b"x", b"a"))))
    SealedThing.create(secret_key_id=old, secret_ciphertext=None)  # purged: protects nothing
    SealedThing.create(secret_key_id=None, secret_ciphertext=None)
    new = keyring.rotate()
    SealedThing.create(**dict(zip(("secret_key_id", "secret_ciphertext"), keyring.seal(b"y", b"a"))))
    rows = keyring.status()
    assert [(r["id"], r["state"], r["ciphertexts"]) for r in rows] == [
        (old, "active", 3), (new, "primary", 1)]
    for row in rows:
        assert set(row) == {"id", "state", "created_at", "state_changed_at", "ciphertexts"}
        assert row["created_at"] <= row["state_changed_at"]
        assert hasattr(row["created_at"], "isoformat")
    monkeypatch.setattr(models, "SEALED_COLUMNS", [])
    assert [r["ciphertexts"] for r in keyring.status()] == [0, 0]


# --- loading and initializing ---------------------------------------------------------------------

def test_load_empty_database_raises_and_writes_nothing(db, root_key):
    with pytest.raises(KeyRingMissing, match="hub init"):
        KeyRing.load(root_key)
    assert KeyringEntry.select().count() == 0


def test_initialize_creates_one_data_key_the_mac_key_and_the_signing_key(keyring):
    rows = keyring_rows()
    assert [(purpose, state) for _, purpose, state, _ in rows] == [
        ("data", "primary"), ("mac", "active"), ("signing", "primary")]
    assert rows[0][0] == keyring._keys.primary_id
    assert all(len(wrapped) == 24 + 32 + 16 for *_, wrapped in rows)


def test_initialize_twice_yields_one_keyring(keyring, root_key):
    before = keyring_rows()
    again = KeyRing.initialize(root_key)
    assert keyring_rows() == before
    assert again._keys.primary_id == keyring._keys.primary_id
    assert again.fingerprint(b"x") == keyring.fingerprint(b"x")


def test_concurrent_initialize_yields_one_keyring(db):
    root_key = os.urandom(32)
    for _ in range(3):
        KeyringEntry.delete().execute()
        rings = in_threads(4, lambda i: KeyRing.initialize(root_key))
        assert KeyringEntry.select().count() == 3  # one data key, the mac key, one signing key
        assert len({r._keys.primary_id for r in rings}) == 1
        assert len({r.signing_key_id() for r in rings}) == 1
        assert len({r.fingerprint(b"x") for r in rings}) == 1
        assert len({r.hash_api_key_secret("s") for r in rings}) == 1


def test_wrong_root_key_is_refused_and_writes_nothing(keyring, root_key):
    keyring.rotate()
    before = keyring_rows()
    wrong = os.urandom(32)
    for attempt in (KeyRing.load, KeyRing.initialize):
        with pytest.raises(RootKeyMismatch) as excinfo:
            attempt(wrong)
        message = str(excinfo.value)
        assert "does not open the keyring stored in this database" in message
        assert "HUB_ROOT_KEY" in message and "never made over existing data" in message
        assert_no_material(message, key_material(keyring, root_key))
        assert_no_material(message, [wrong.hex(), base64.b64encode(wrong).decode()])
    assert keyring_rows() == before


def test_keyring_rows_cannot_be_swapped(keyring, root_key):
    first = keyring._keys.primary_id
    second = keyring.rotate()
    a, b = KeyringEntry.get_by_id(first), KeyringEntry.get_by_id(second)
    KeyringEntry.update(wrapped=bytes(b.wrapped)).where(KeyringEntry.id == first).execute()
    KeyringEntry.update(wrapped=bytes(a.wrapped)).where(KeyringEntry.id == second).execute()
    with pytest.raises(RootKeyMismatch):
        KeyRing.load(root_key)


def test_keyring_without_mac_key_is_never_rebuilt(keyring, root_key):
    KeyringEntry.delete().where(KeyringEntry.id == keyring_impl.MAC_KEY_ID).execute()
    before = keyring_rows()
    with pytest.raises(KeyRingCorrupt):
        KeyRing.initialize(root_key)
    assert keyring_rows() == before
    with pytest.raises(KeyRingMissing):
        keyring.rotate()
    assert keyring_rows() == before


def test_rotate_refuses_after_root_key_changed_elsewhere(keyring, root_key):
    new_root = os.urandom(32)
    with database.atomic():  # what `hub crypto rotate-root` will do
        for row in KeyringEntry.select():
            key = keyring_impl._unwrap(root_key, row.id, row.purpose, row.wrapped)
            row.wrapped = keyring_impl._wrap(new_root, row.id, row.purpose, key)
            row.save()
    before = keyring_rows()
    with pytest.raises(RootKeyMismatch):
        keyring.rotate()
    assert keyring_rows() == before
    assert KeyRing.load(new_root).fingerprint(b"x") == keyring.fingerprint(b"x")


def test_root_key_must_be_32_bytes(db):
    for bad in (b"short", "x" * 32, None):
        with pytest.raises(RootKeyError):
            KeyRing.load(bad)


# --- keyed hashes ---------------------------------------------------------------------------------

def test_fingerprint(keyring, root_key):
    fp = keyring.fingerprint(b'{"token":"xoxb-1"}')
    assert len(fp) == 64 and int(fp, 16) >= 0
    assert keyring.fingerprint(b'{"token":"xoxb-2"}') != fp
    keyring.rotate()
    assert keyring.fingerprint(b'{"token":"xoxb-1"}') == fp
    assert KeyRing.load(root_key).fingerprint(b'{"token":"xoxb-1"}') == fp
    # A different keyring (even under the same root key) fingerprints differently.
    KeyringEntry.delete().execute()
    other = KeyRing.initialize(root_key)
    assert other.fingerprint(b'{"token":"xoxb-1"}') != fp


def test_hash_api_key_secret(keyring, root_key):
    secret = "hub_sk_" + "a" * 38
    digest = keyring.hash_api_key_secret(secret)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest != keyring.fingerprint(secret.encode())  # a differently derived subkey
    assert digest != keyring.hash_api_key_secret(secret + "b")
    keyring.rotate()
    assert keyring.hash_api_key_secret(secret) == digest
    assert KeyRing.load(root_key).hash_api_key_secret(secret) == digest
    KeyringEntry.delete().execute()
    assert KeyRing.initialize(root_key).hash_api_key_secret(secret) != digest


# --- no key material in reprs or messages ---------------------------------------------------------

def test_reprs_and_messages_hold_no_key_material(keyring, root_key):
    keyring.rotate()
    forms = key_material(keyring, root_key)
    sealed = keyring.seal(b"plaintext-value", b"aad")
    texts = [repr(keyring), str(keyring), repr(keyring._keys), repr(sealed), str(sealed)]
    texts += [repr(row) for row in KeyringEntry.select()]
    for call in (lambda: keyring.open_sealed(sealed.key_id, sealed.ciphertext, b"other"),
                 lambda: keyring.open_sealed(sealed.key_id, sealed.ciphertext[:-1], b"aad"),
                 lambda: keyring.open_sealed("dk_000000000000", sealed.ciphertext, b"aad"),
                 lambda: KeyRing.load(os.urandom(32))):
        with pytest.raises(crypto.CryptoError) as excinfo:
            call()
        texts += [str(excinfo.value), repr(excinfo.value), excinfo.value.detail]
    for text in texts:
        assert_no_material(text, forms)
        assert "plaintext-value" not in text
    keys = keyring._keys
    assert repr(keyring) == f"<KeyRing primary={keys.primary_id} data_keys={sorted(keys.data)}>"
    assert "plaintext" not in repr(sealed) and sealed.key_id in repr(sealed)
    with pytest.raises(TypeError):
        pickle.dumps(keyring)


# --- the root key ---------------------------------------------------------------------------------

@pytest.fixture
def permissive_umask():
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_root_key_file_created_0600_and_never_overwritten(tmp_path, permissive_umask):
    path = tmp_path / "instance" / "root.key"
    key = create_root_key_file(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_text().strip()) == key
    assert load_root_key(None, path) == key
    content = path.read_bytes()
    with pytest.raises(RootKeyError, match="already exists") as excinfo:
        create_root_key_file(path)
    assert path.read_bytes() == content
    assert_no_material(str(excinfo.value), [key.hex(), base64.b64encode(key).decode()])


def test_root_key_file_not_created_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    (tmp_path / "root.key").symlink_to(target)
    with pytest.raises(RootKeyError):
        create_root_key_file(tmp_path / "root.key")
    assert not target.exists()


def test_load_root_key_sources(tmp_path):
    path = tmp_path / "root.key"
    assert load_root_key(None, path) is None
    file_key = create_root_key_file(path)
    env_key = os.urandom(32)
    assert load_root_key(base64.b64encode(env_key).decode(), path) == env_key  # env wins
    assert load_root_key(base64.urlsafe_b64encode(env_key).decode().rstrip("=") + "\n", path) == env_key
    assert load_root_key(None, path) == file_key


@pytest.mark.parametrize("value", [
    "", "   ", "not base64 at all!", base64.b64encode(os.urandom(16)).decode(),
    base64.b64encode(os.urandom(33)).decode(), base64.b64encode(os.urandom(32)).decode()[:-5] + "$$$$=",
])
def test_malformed_hub_root_key(tmp_path, monkeypatch, value):
    create_root_key_file(tmp_path / "root.key")  # a valid file must not mask a bad setting
    monkeypatch.setenv("HUB_ROOT_KEY", value)
    with pytest.raises(RootKeyError) as excinfo:
        load_root_key(os.environ["HUB_ROOT_KEY"], tmp_path / "root.key")
    message = str(excinfo.value)
    assert "HUB_ROOT_KEY" in message and "base64" in message
    if value.strip():
        assert value not in message


def test_malformed_root_key_file(tmp_path):
    path = tmp_path / "root.key"
    path.write_text(base64.b64encode(os.urandom(31)).decode())
    with pytest.raises(RootKeyError, match="31 bytes") as excinfo:
        load_root_key(None, path)
    assert str(path) in str(excinfo.value)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(RootKeyError, match=str(path)):
        load_root_key(None, path)


# --- bulk sealing, rewrap, retire, rotate-root (KeyRing level) ------------------------------------

def test_seal_many_and_reseal_many(keyring):
    records = [(f"value-{i}".encode(), f"row:{i}".encode()) for i in range(5)]
    sealed = keyring.seal_many(records)
    old = keyring.primary_id()
    assert [s.key_id for s in sealed] == [old] * 5
    assert len({s.ciphertext[:24] for s in sealed}) == 5
    for (plaintext, aad), s in zip(records, sealed):
        assert keyring.open_sealed(*s, aad) == plaintext
    new = keyring.rotate()
    damaged = sealed[1].ciphertext[:-1] + bytes([sealed[1].ciphertext[-1] ^ 1])
    batch = [(s.key_id, s.ciphertext, aad) for s, (_, aad) in zip(sealed, records)]
    batch[1] = (old, damaged, records[1][1])
    batch[2] = ("dk_000000000000", sealed[2].ciphertext, records[2][1])
    batch[3] = (old, sealed[3].ciphertext, b"another row")
    primary, out = keyring.reseal_many(batch)
    assert primary == new and out[1] is None and out[2] is None and out[3] is None
    for i in (0, 4):
        assert out[i] != sealed[i].ciphertext
        assert keyring.open_sealed(new, out[i], records[i][1]) == records[i][0]
        with pytest.raises(DecryptionFailed):
            keyring.open_sealed(old, out[i], records[i][1])


def test_reseal_many_follows_a_rotation_made_elsewhere(keyring, root_key):
    sealed = keyring.seal(b"x", b"aad")
    other = KeyRing.load(root_key)
    [new_id] = in_threads(1, lambda i: keyring.rotate())
    primary, [ciphertext] = other.reseal_many([(sealed.key_id, sealed.ciphertext, b"aad")])
    assert primary == new_id and other.open_sealed(new_id, ciphertext, b"aad") == b"x"


def test_retire(keyring, monkeypatch):
    monkeypatch.setattr(models, "SEALED_COLUMNS", [(SealedThing, "secret")])
    old = keyring.primary_id()
    from hub.errors import Conflict, NotFound

    with pytest.raises(Conflict) as excinfo:
        keyring.retire(old)
    assert "primary" in str(excinfo.value)
    row = SealedThing.create(**dict(zip(("secret_key_id", "secret_ciphertext"), keyring.seal(b"x", b"a"))))
    new = keyring.rotate()
    with pytest.raises(Conflict, match="still protects 1 ciphertext:"):
        keyring.retire(old)
    assert keyring.ciphertexts_under(old) == 1
    SealedThing.update(secret_ciphertext=None).where(SealedThing.id == row.id).execute()
    events = []
    assert keyring.retire(old, in_transaction=lambda: events.append(1)) is True and events == [1]
    assert keyring.retire(old) is False
    assert {r["id"]: r["state"] for r in keyring.status()} == {old: "retired", new: "primary"}
    with pytest.raises(NotFound, match="no data key"):
        keyring.retire(keyring_impl.MAC_KEY_ID)
    with pytest.raises(RuntimeError), database.atomic():
        keyring.retire(old)


def test_rewrap_keyring_moves_every_entry_to_the_new_root_key(keyring, root_key):
    sealed = keyring.seal(b"token", b"aad")
    fingerprint = keyring.fingerprint(b"x")
    before = keyring_rows()
    new_root = os.urandom(32)
    seen = []
    assert keyring.rewrap_keyring(new_root, in_transaction=seen.append) == 3 and seen == [3]
    after = keyring_rows()
    assert [r[:3] for r in after] == [r[:3] for r in before]
    assert all(a[3] != b[3] for a, b in zip(after, before))
    with pytest.raises(RootKeyMismatch):
        KeyRing.load(root_key)
    reopened = KeyRing.load(new_root)
    assert reopened.open_sealed(*sealed, b"aad") == b"token" and reopened.fingerprint(b"x") == fingerprint
    keyring.rotate()  # this object now works under the new root key
    assert KeyRing.load(new_root).seal(b"y", b"a").key_id == keyring.primary_id()
    forms = key_material(reopened, new_root) + [root_key.hex(), base64.b64encode(root_key).decode()]
    assert_no_material(repr(keyring), forms)


def test_rewrap_keyring_refused_after_another_process_rotated_the_root(keyring, root_key):
    other = KeyRing.load(root_key)
    winner = os.urandom(32)
    keyring.rewrap_keyring(winner)
    before = keyring_rows()
    with pytest.raises(RootKeyMismatch):
        other.rewrap_keyring(os.urandom(32))
    assert keyring_rows() == before
    KeyRing.load(winner)


def test_concurrent_rewrap_keyring_one_wins(keyring, root_key):
    rings = [KeyRing.load(root_key) for _ in range(3)]
    roots = [os.urandom(32) for _ in range(3)]

    def attempt(i):
        try:
            rings[i].rewrap_keyring(roots[i])
            return True
        except RootKeyMismatch:
            return False

    results = in_threads(3, attempt)
    assert results.count(True) == 1
    KeyRing.load(roots[results.index(True)])


def test_rewrap_keyring_rolls_back_when_its_transaction_fails(keyring, root_key):
    before = keyring_rows()

    def fail(count):
        raise OSError("disk full")

    with pytest.raises(OSError):
        keyring.rewrap_keyring(os.urandom(32), in_transaction=fail)
    assert keyring_rows() == before
    keyring.rotate()  # still under the old root key
    KeyRing.load(root_key)
    with pytest.raises(ValueError):
        keyring.rewrap_keyring(root_key)
    with pytest.raises(RuntimeError), database.atomic():
        keyring.rewrap_keyring(os.urandom(32))
