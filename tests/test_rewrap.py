"""`hub crypto rewrap` and `hub crypto retire`, on SQLite and PostgreSQL: every ciphertext moves to
the primary data key, in batches, while servers write; a write during the rewrap is never
overwritten; a rewrap killed with SIGKILL midway and run again loses nothing and leaves nothing on
the old key; a key is retired only when it protects nothing and is not the primary."""
from __future__ import annotations

import contextvars
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hub.crypto import operations
from hub.crypto import rewrap as rewrapping
from hub.crypto.canonical import canonical_json
from hub.integrations import integrity
from hub.storage.database import is_sqlite
from hub.storage.models import (
    AuditEvent,
    Integration,
    Secret,
    SecretVersion,
    database,
    new_id,
    utcnow,
)

HUB = str(Path(sys.executable).with_name("hub"))
INTEGRATIONS = "/v1/projects/payments/integrations"
SECRETS = "/v1/projects/payments/secrets"


# --- helpers -------------------------------------------------------------------------------------

def in_app(hub):
    """The hub's app context with a connection (as a CLI command runs)."""
    class _Ctx:
        def __enter__(self):
            self.app_ctx = hub.app.app_context()
            self.app_ctx.__enter__()
            self.conn = hub.app.extensions["hub.db"].connection_context()
            self.conn.__enter__()
            return hub.app.extensions["hub.keyring"].get()

        def __exit__(self, *exc):
            self.conn.__exit__(*exc)
            self.app_ctx.__exit__(*exc)

    return _Ctx()


def insert_rows(model, rows) -> None:
    """INSERT many rows in one statement per chunk (peewee's insert_many compiles every value)."""
    db = database.obj
    fields = model._meta.sorted_fields
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    values = [[f.db_value(row.__data__.get(f.name)) for f in fields] for row in rows]
    with database.atomic():
        cursor = database.cursor()
        if is_sqlite(db):
            cursor.executemany(f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES '
                               f"({', '.join('?' * len(fields))})", values)
        else:
            from psycopg2.extras import execute_values
            execute_values(cursor, f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES %s',
                           values, page_size=2000)


def bulk_sealed_rows(keyring, org_id, project_id, count) -> dict[str, bytes]:
    """`count` sealed records (half integrations, half secret versions) as the hub seals them.
    Returns {row id: plaintext}."""
    now = utcnow()
    n_integrations = count // 2
    secret = Secret.create(id=new_id(), project=project_id, name=f"bulk-{new_id()[-12:]}",
                           current_version=count - n_integrations, created_at=now, updated_at=now)
    integrations = [Integration(id=new_id(), org=org_id, project=project_id, name=f"bulk-{i}",
                                provider="slack", auth_type="token", config={}, tags=[],
                                status="active", credential_fields=["token"], fingerprint="0" * 64,
                                created_at=now, updated_at=now, credentials_updated_at=now)
                    for i in range(n_integrations)]
    versions = [SecretVersion(id=new_id(), secret=secret.id, project_id=project_id, org_id=org_id,
                              version=v, state="DISABLED", sha256="0" * 64, created_at=now, state_changed_at=now)
                for v in range(1, count - n_integrations + 1)]
    plaintexts = {}
    for model, rows, prefix, field in ((Integration, integrations, "credentials", "token"),
                                       (SecretVersion, versions, "values", "KEY")):
        texts = [canonical_json({field: f"xoxb-{row.id}"}) for row in rows]
        sealed = keyring.seal_many([(text, row.sealed_aad(prefix)) for row, text in zip(rows, texts)])
        for row, text, pair in zip(rows, texts, sealed):
            setattr(row, f"{prefix}_key_id", pair.key_id)
            setattr(row, f"{prefix}_ciphertext", pair.ciphertext)
            plaintexts[row.id] = text
            if model is Integration:  # its fingerprint and MAC, as the hub writes them
                row.fingerprint = keyring.fingerprint(text)
                integrity.stamp(keyring, row)
        insert_rows(model, rows)
    return plaintexts


def every_sealed_record(keyring):
    """{row id: (key id, plaintext)} of every sealed column, opened with its row's aad."""
    opened = {}
    for row in Integration.select():
        opened[row.id] = (row.credentials_key_id, keyring.open_sealed(
            row.credentials_key_id, row.credentials_ciphertext, row.sealed_aad()))
    for row in SecretVersion.select().where(SecretVersion.values_ciphertext.is_null(False)):
        opened[row.id] = (row.values_key_id, keyring.open_sealed(
            row.values_key_id, row.values_ciphertext, row.sealed_aad("values")))
    return opened


def cli(hub, *args):
    result = hub.app.test_cli_runner().invoke(args=list(args))
    return result


def status(hub):
    result = cli(hub, "crypto", "status", "--json")
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in json.loads(result.stdout)}


def make_some_records(hub):
    """Two integrations and a secret with two versions, through the API."""
    ids = []
    for name, token in (("alerts", "xoxb-1-alerts"), ("deploys", "xoxb-2-deploys")):
        resp = hub.call("POST", INTEGRATIONS, json={"name": name, "provider": "slack",
                                                    "credentials": {"token": token}})
        assert resp.status_code == 201, resp.json
        ids.append(resp.json["id"])
    assert hub.call("POST", SECRETS, json={"name": "db", "values": {"password": "one"}}).status_code == 201
    assert hub.call("PUT", f"{SECRETS}/db", json={"values": {"password": "two"}}).status_code == 200
    return ids


def credentials(hub, integration_id):
    resp = hub.call("GET", f"{INTEGRATIONS}/{integration_id}/credentials")
    assert resp.status_code == 200, resp.json
    return resp.json["credentials"]


# --- rewrap, status, retire ----------------------------------------------------------------------

def test_rewrap_then_status_shows_nothing_on_the_old_key_then_retire(hub):
    ids = make_some_records(hub)
    old = next(iter(status(hub)))
    refused = cli(hub, "crypto", "retire", old)
    assert refused.exit_code == 1 and "primary" in refused.output and "Traceback" not in refused.output
    assert cli(hub, "crypto", "rotate").exit_code == 0
    new = next(k for k, row in status(hub).items() if row["state"] == "primary")
    assert status(hub)[old]["ciphertexts"] == 4  # two credentials, two secret versions

    refused = cli(hub, "crypto", "retire", old)
    assert refused.exit_code == 1 and "4 ciphertexts" in refused.output and "hub crypto rewrap" in refused.output
    assert status(hub)[old]["state"] == "active"

    result = cli(hub, "crypto", "rewrap", "--batch-size", "1", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["primary"] == new and body["rewrapped"] == 4 and body["skipped"] == 0
    assert body["failed"] == [] and body["remaining"] == {} and body["from_keys"] == {old: 4}
    assert {(c["table"], c["column"], c["rewrapped"]) for c in body["columns"]} == {
        ("integration", "credentials", 2), ("secret_version", "values", 2),
        ("oauth_app", "client_secret", 0), ("oauth_pending", "verifier", 0)}
    assert "[4/4]" in result.stderr  # one progress line per batch (piped: plain lines)
    keys = status(hub)
    assert keys[old]["ciphertexts"] == 0 and keys[new]["ciphertexts"] == 4

    # Everything still reads, now from the new key.
    assert credentials(hub, ids[0]) == {"token": "xoxb-1-alerts"}
    assert credentials(hub, ids[1]) == {"token": "xoxb-2-deploys"}
    resolved = hub.call("POST", f"{SECRETS}:resolve", json={"template": "${secret:db.password}"})
    assert resolved.json["result"] == "two"
    with in_app(hub) as keyring:
        assert {key for key, _ in every_sealed_record(keyring).values()} == {new}

    # A rerun finds nothing to do; a table for people.
    again = cli(hub, "crypto", "rewrap")
    assert again.exit_code == 0, again.output
    assert "0 ciphertexts rewrapped" in again.stdout and "TABLE" in again.stdout

    retired = cli(hub, "crypto", "retire", old, "--json")
    assert retired.exit_code == 0, retired.output
    assert json.loads(retired.stdout) == {"id": old, "state": "retired", "changed": True}
    assert status(hub)[old]["state"] == "retired"
    twice = cli(hub, "crypto", "retire", old)
    assert twice.exit_code == 0 and "already" in twice.stdout
    unknown = cli(hub, "crypto", "retire", "dk_000000000000")
    assert unknown.exit_code == 1 and "no data key" in unknown.output
    mac = cli(hub, "crypto", "retire", "mac")
    assert mac.exit_code == 1 and "no data key" in mac.output
    assert credentials(hub, ids[0]) == {"token": "xoxb-1-alerts"}

    with in_app(hub):
        actions = [(e.action, e.target_id, e.details) for e in
                   AuditEvent.select().where(AuditEvent.action.startswith("crypto.")).order_by(AuditEvent.seq)]
    assert [a for a, *_ in actions] == ["crypto.rotate", "crypto.rewrap", "crypto.rewrap", "crypto.retire"]
    assert actions[1][2]["rewrapped"] == 4 and actions[1][2]["from_keys"] == {old: 4}
    assert actions[2][2]["rewrapped"] == 0 and actions[3][1] == old


def test_rewrap_retire_flag_and_every_org_on_record(hub):
    make_some_records(hub)
    other_org, _ = hub.make_org("globex", "rockets")
    first = next(iter(status(hub)))
    assert cli(hub, "crypto", "rotate").exit_code == 0
    second = next(k for k, row in status(hub).items() if row["state"] == "primary")
    assert cli(hub, "crypto", "rotate").exit_code == 0
    result = cli(hub, "crypto", "rewrap", "--retire", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert sorted(body["retired"]) == sorted([first, second])
    states = {k: row["state"] for k, row in status(hub).items()}
    assert states[first] == states[second] == "retired"
    with in_app(hub):
        for org_id in (hub.org.id, other_org.id):
            actions = [e.action for e in AuditEvent.select().where(
                (AuditEvent.org == org_id) & AuditEvent.action.startswith("crypto."))]
            assert actions.count("crypto.rewrap") == 1 and actions.count("crypto.retire") == 2


def test_a_write_during_the_rewrap_is_never_overwritten(hub, monkeypatch):
    ids = make_some_records(hub)
    assert cli(hub, "crypto", "rotate").exit_code == 0
    with in_app(hub):
        destroyed = SecretVersion.get(SecretVersion.version == 1)
    real = type(hub.app.extensions["hub.keyring"].get()).reseal_many
    raced = []

    def reseal_then_race(self, records):
        out = real(self, records)
        raced.append(len(records))
        # Between the rewrap's read of a batch and its UPDATE, a server writes one of its rows: new
        # credentials (integrations, the first batch), a destroyed version (secret versions).
        if len(raced) == 1:
            def server():
                put = hub.call("PUT", f"{INTEGRATIONS}/{ids[0]}", json={"credentials": {"token": "xoxb-new"}})
                assert put.status_code == 200, put.json
        elif len(raced) == 2:
            def server():
                gone = hub.call("POST", f"{SECRETS}/db/versions/1:destroy")
                assert gone.status_code == 200, gone.json
        else:
            return out
        thread = threading.Thread(target=server)
        thread.start()
        thread.join(30)
        return out

    monkeypatch.setattr(type(hub.app.extensions["hub.keyring"].get()), "reseal_many", reseal_then_race)
    with in_app(hub) as keyring:
        summary = rewrapping.rewrap(keyring, batch_size=10)
    assert raced == [2, 2] and summary.skipped == 2 and summary.rewrapped == 2 and not summary.failed
    assert summary.remaining == {}
    assert credentials(hub, ids[0]) == {"token": "xoxb-new"}  # the server's write, not the old copy
    assert credentials(hub, ids[1]) == {"token": "xoxb-2-deploys"}
    with in_app(hub):
        row = SecretVersion.get_by_id(destroyed.id)
        assert row.state == "DESTROYED" and row.values_ciphertext is None and row.values_key_id is None


def test_a_record_that_does_not_open_is_reported_and_left(hub):
    ids = make_some_records(hub)
    assert cli(hub, "crypto", "rotate").exit_code == 0
    old = next(k for k, row in status(hub).items() if row["state"] == "active")
    with in_app(hub):
        row = Integration.get_by_id(ids[1])
        sealed = bytes(row.credentials_ciphertext)
        damaged = sealed[:-1] + bytes([sealed[-1] ^ 1])
        Integration.update(credentials_ciphertext=damaged).where(Integration.id == ids[1]).execute()
    result = cli(hub, "crypto", "rewrap", "--json")
    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    assert body["failed"] == [{"table": "integration", "id": ids[1]}]
    assert body["rewrapped"] == 3 and body["remaining"] == {old: 1}
    assert "do not open" in result.stderr
    text = cli(hub, "crypto", "rewrap")
    assert text.exit_code == 1 and f"does not open: integration {ids[1]}" in text.stdout
    refused = cli(hub, "crypto", "retire", old)
    assert refused.exit_code == 1 and "1 ciphertext:" in refused.output
    with in_app(hub):
        assert bytes(Integration.get_by_id(ids[1]).credentials_ciphertext) == damaged


def test_aad_fields_are_the_ones_sealed_aad_reads():
    assert [f.name for f in rewrapping.aad_fields(Integration, "credentials")] == ["id", "org", "project"]
    assert [f.name for f in rewrapping.aad_fields(SecretVersion, "values")] == [
        "id", "secret", "project_id", "org_id", "version"]


def test_batch_size_and_pause_are_checked(hub):
    for args in (["--batch-size", "0"], ["--pause", "-1"]):
        result = cli(hub, "crypto", "rewrap", *args)
        assert result.exit_code == 2 and "Traceback" not in result.output


# --- killed midway, with servers writing ---------------------------------------------------------

RECORDS = 20_000


def test_rewrap_killed_midway_then_run_again_loses_nothing(hub, root_key_b64):
    with in_app(hub) as keyring:
        expected = bulk_sealed_rows(keyring, hub.org.id, hub.project.id, RECORDS)
        old = keyring.primary_id()
        new = operations.rotate(keyring)
        bulk_integrations = [i for (i,) in Integration.select(Integration.id).tuples()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
        "HUB_INSTANCE_PATH": hub.app.config["INSTANCE_PATH"],
        "HUB_DATABASE_URL": hub.app.config["DATABASE_URL"], "HUB_ROOT_KEY": root_key_b64}

    # Servers keep writing: new credentials on rows the rewrap has not reached yet (and some it
    # has), new secret versions.
    stop = threading.Event()
    written: dict[str, bytes] = {}
    errors = []

    def server():
        rng = random.Random(7)
        n = 0
        while not stop.is_set():
            n += 1
            integration_id = rng.choice(bulk_integrations)
            token = f"xoxb-server-{n}"
            resp = hub.call("PUT", f"{INTEGRATIONS}/{integration_id}", json={"credentials": {"token": token}})
            if resp.status_code != 200:
                errors.append(resp.json)
                return
            written[integration_id] = canonical_json({"token": token})
            if n % 5 == 0:
                resp = hub.call("POST", SECRETS, json={"name": f"during-{n}", "values": {"v": str(n)}})
                if resp.status_code != 201:
                    errors.append(resp.json)
                    return
            time.sleep(0.002)

    writer = threading.Thread(target=contextvars.copy_context().run, args=(server,))
    writer.start()
    try:
        proc = subprocess.Popen([HUB, "crypto", "rewrap", "--batch-size", "500", "--pause", "0.03"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if len(seen) >= 8:  # 4,000 of 20,000 done: kill it mid-run
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        assert proc.returncode == -signal.SIGKILL, "".join(seen) + proc.stderr.read()
        assert len(seen) >= 8 and seen[0].startswith("[500/"), seen
        with in_app(hub) as keyring:
            left = {row["id"]: row["ciphertexts"] for row in keyring.status()}[old]
        assert 0 < left < RECORDS  # some batches committed, the rest not begun
        time.sleep(0.2)  # the servers go on writing after the kill, too
    finally:
        stop.set()
        writer.join(30)
    assert not errors, errors
    assert written

    again = hub.app.test_cli_runner().invoke(args=["crypto", "rewrap", "--json"])
    assert again.exit_code == 0, again.output
    body = json.loads(again.stdout)
    assert body["remaining"] == {} and body["failed"] == []
    assert body["rewrapped"] <= left  # what the killed run did is not done twice

    with in_app(hub) as keyring:
        opened = every_sealed_record(keyring)
        assert {row["id"]: row["ciphertexts"] for row in keyring.status()}[old] == 0
    assert {key for key, _ in opened.values()} == {new}
    for row_id, plaintext in expected.items():
        assert opened[row_id][1] == written.get(row_id, plaintext), row_id
    assert len(opened) >= RECORDS + 2  # the secrets created during the run are there too


def test_a_rotation_during_the_rewrap_is_followed(hub, monkeypatch):
    make_some_records(hub)
    assert cli(hub, "crypto", "rotate").exit_code == 0
    keyring_type = type(hub.app.extensions["hub.keyring"].get())
    real = keyring_type.reseal_many
    rotated = []

    def reseal_then_rotate(self, records):
        out = real(self, records)
        if not rotated:  # another operator rotates while the first batch is in flight
            thread = threading.Thread(target=lambda: rotated.append(cli(hub, "crypto", "rotate")))
            thread.start()
            thread.join(30)
        return out

    monkeypatch.setattr(keyring_type, "reseal_many", reseal_then_rotate)
    with in_app(hub) as keyring:
        summary = operations.rewrap(keyring, batch_size=100)[0]
        newest = keyring.primary_id()
    assert rotated and rotated[0].exit_code == 0
    assert summary.primary == newest and summary.remaining == {} and summary.passes == 2
    with in_app(hub) as keyring:
        assert {key for key, _ in every_sealed_record(keyring).values()} == {newest}
