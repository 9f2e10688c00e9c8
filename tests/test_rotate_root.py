"""`hub crypto rotate-root`, on SQLite and PostgreSQL: the keyring re-encrypted under a new root key
in one transaction, the new key in the key file (the old kept beside it) or printed once for
HUB_ROOT_KEY; afterwards only the new key opens the hub. A crash between writing the new key and
installing it never leaves a keyring that no saved key opens, and the hub says what to do."""
from __future__ import annotations

import base64
import json
import os
import stat

import pytest
from hub_cli import run_hub

from hub.audit.log import AuditUnavailable
from hub.crypto import operations
from hub.storage.database import open_database
from hub.storage.models import AuditEvent, Org, bound


@pytest.fixture
def instance_env(tmp_path, database_url):
    return {"HUB_INSTANCE_PATH": str(tmp_path / "instance"), "HUB_DATABASE_URL": database_url}


@pytest.fixture
def key_file(tmp_path):
    return tmp_path / "instance" / "root.key"


def set_up(env):
    run_hub(["init"], env)
    run_hub(["orgs", "create", "globex"], env)
    run_hub(["secrets", "create", "--project", "default", "--name", "db", "--values",
             '{"password": "hunter2"}'], env)


def resolves(env) -> str:
    return run_hub(["secrets", "resolve", "--project", "default", "--template", "${secret:db.password}"],
                   env).stdout.strip()


def events(env, action):
    db = open_database(env["HUB_DATABASE_URL"], env["HUB_INSTANCE_PATH"])
    try:
        with bound(db), db.connection_context():
            orgs = {o.id: o.name for o in Org.select()}
            return sorted((orgs[e.org_id], e.details) for e in
                          AuditEvent.select().where(AuditEvent.action == action))
    finally:
        if hasattr(db, "close_all"):
            db.close_all()
        else:
            db.close()


def refused(env, **extra):
    proc = run_hub(["crypto", "status"], env | extra, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def test_rotate_root_with_the_key_file(instance_env, key_file):
    set_up(instance_env)
    old = key_file.read_bytes()
    proc = run_hub(["crypto", "rotate-root", "--json"], instance_env)
    body = json.loads(proc.stdout)
    assert body["entries"] == 3 and body["key_file"] == str(key_file)  # data, mac, signing key
    assert body["key_source"] == "root_key_file" and not body["finished_interrupted"]
    new = key_file.read_bytes()
    assert new != old and len(base64.b64decode(new.strip())) == 32
    assert new.decode().strip() not in proc.stdout + proc.stderr  # the key file's key is never printed
    kept = key_file.parent / os.path.basename(body["old_key_file"])
    assert kept.name.startswith("root.key.old-") and kept.read_bytes() == old
    for path in (key_file, kept):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (key_file.parent / "root.key.new").exists()

    assert resolves(instance_env) == "hunter2"  # the hub starts with the new key, data intact
    message = refused(instance_env, HUB_ROOT_KEY=old.decode().strip())
    assert "does not open the keyring" in message and "rotate-root" in message
    assert [org for org, details in events(instance_env, "crypto.rotate_root")] == ["default", "globex"]
    assert events(instance_env, "crypto.rotate_root")[0][1] == {"entries": 3, "key_source": "root_key_file"}

    # Again: a second old key is kept too, never overwritten.
    text = run_hub(["crypto", "rotate-root"], instance_env).stdout
    assert "root key rotated: 3 keyring entries" in text and "Restart every server" in text
    assert len(list(key_file.parent.glob("root.key.old-*"))) == 2
    assert resolves(instance_env) == "hunter2"
    assert run_hub(["audit", "verify"], instance_env).returncode == 0


def test_rotate_root_with_hub_root_key_prints_the_new_key_once(instance_env, key_file, root_key_b64):
    env = instance_env | {"HUB_ROOT_KEY": root_key_b64}
    set_up(env)
    proc = run_hub(["crypto", "rotate-root"], env)
    [line] = [line for line in proc.stdout.splitlines() if line.startswith("new root key (shown once): ")]
    new = line.rsplit(" ", 1)[1]
    assert len(base64.b64decode(new)) == 32 and new != root_key_b64
    assert "HUB_ROOT_KEY" in proc.stderr and "before restarting" in proc.stderr
    assert not key_file.exists()  # nothing written to disk

    message = refused(env)  # the old key no longer opens the hub
    assert "HUB_ROOT_KEY" in message and "the new key it printed" in message
    env[("HUB_ROOT_KEY")] = new
    assert resolves(env) == "hunter2"

    body = json.loads(run_hub(["crypto", "rotate-root", "--json"], env).stdout)
    assert body["key_source"] == "HUB_ROOT_KEY" and len(base64.b64decode(body["root_key"])) == 32
    refused(env)
    assert resolves(env | {"HUB_ROOT_KEY": body["root_key"]}) == "hunter2"
    assert [details["key_source"] for _, details in events(env, "crypto.rotate_root")] == ["HUB_ROOT_KEY"] * 4


def test_a_crash_after_the_commit_is_finished_by_running_again(instance_env, key_file, monkeypatch):
    set_up(instance_env)
    old = key_file.read_bytes()

    def crash(path):
        raise SystemExit("killed")  # as if the process died between the commit and the rename

    monkeypatch.setattr(operations, "install_pending_root_key_file", crash)
    proc = run_hub(["crypto", "rotate-root"], instance_env, check=False)
    assert proc.returncode != 0
    pending = key_file.parent / "root.key.new"
    assert pending.exists() and key_file.read_bytes() == old
    monkeypatch.undo()

    message = refused(instance_env)  # the hub does not start, and says exactly what to do
    assert f"{pending} does" in message and "Run 'hub crypto rotate-root' again" in message
    assert f"mv {pending} {key_file}" in message
    serve = run_hub(["serve", "--port", "1"], instance_env, check=False)
    assert serve.returncode == 1 and "rotate-root" in serve.stderr

    text = run_hub(["crypto", "rotate-root"], instance_env).stdout
    assert "finished an interrupted root key rotation" in text
    assert not pending.exists() and key_file.read_bytes() != old
    [kept] = key_file.parent.glob("root.key.old-*")
    assert kept.read_bytes() == old
    assert resolves(instance_env) == "hunter2"
    assert len(events(instance_env, "crypto.rotate_root")) == 2  # one rotation, in each org


def test_a_failure_before_the_commit_changes_nothing(instance_env, key_file, monkeypatch):
    set_up(instance_env)
    old = key_file.read_bytes()
    real = operations._record_everywhere

    def audit_fails(keyring, action, **fields):
        real(keyring, action, **fields)
        if action == "crypto.rotate_root":  # after root.key.new is written, before the commit
            raise AuditUnavailable("The audit log cannot be written right now, so nothing was done.")

    monkeypatch.setattr(operations, "_record_everywhere", audit_fails)
    proc = run_hub(["crypto", "rotate-root"], instance_env, check=False)
    assert proc.returncode == 1 and "nothing was done" in proc.stderr and "Traceback" not in proc.stderr
    monkeypatch.undo()
    assert key_file.read_bytes() == old and not (key_file.parent / "root.key.new").exists()
    assert not list(key_file.parent.glob("root.key.old-*"))
    assert resolves(instance_env) == "hunter2"
    assert events(instance_env, "crypto.rotate_root") == []


def test_a_stale_new_key_file_is_never_overwritten_or_used(instance_env, key_file):
    set_up(instance_env)
    old = key_file.read_bytes()
    pending = key_file.parent / "root.key.new"
    stale = base64.b64encode(os.urandom(32)) + b"\n"
    pending.write_bytes(stale)
    proc = run_hub(["crypto", "rotate-root"], instance_env, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "does not open the keyring" in proc.stderr and f"delete {pending}" in proc.stderr
    assert pending.read_bytes() == stale and key_file.read_bytes() == old
    assert resolves(instance_env) == "hunter2"  # the hub itself is unaffected
    pending.unlink()
    run_hub(["crypto", "rotate-root"], instance_env)
    assert resolves(instance_env) == "hunter2"
