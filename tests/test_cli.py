"""The `hub` console script and its commands, on a real instance folder (run in this process by
`hub_cli.run_hub`, except where the real process is the point)."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hub_cli import run_hub

HUB = str(Path(sys.executable).with_name("hub"))


@pytest.fixture
def instance_env(tmp_path, database_url):
    return {"HUB_INSTANCE_PATH": str(tmp_path / "instance"), "HUB_DATABASE_URL": database_url}


def test_init_twice_reuses_the_instance(instance_env, tmp_path):
    first = json.loads(run_hub(["init", "--json"], instance_env).stdout)
    assert first["org"] == "default" and first["project"] == "default"
    assert first["api_key"].startswith("hub_pk_") and first["secret"].startswith("hub_sk_")
    key_file = tmp_path / "instance" / "root.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_before = key_file.read_bytes()

    second = json.loads(run_hub(["init", "--json"], instance_env).stdout)
    assert second["secret"] is None and second["api_key"] == first["api_key"]
    assert key_file.read_bytes() == key_before

    listed = json.loads(run_hub(["keys", "list", "--json"], instance_env).stdout)
    assert [k["api_key"] for k in listed] == [first["api_key"]]
    assert first["secret"] not in json.dumps(listed)


def test_keys_create_list_revoke_and_table_output(instance_env):
    run_hub(["init"], instance_env)
    made = json.loads(run_hub(["keys", "create", "--name", "deploy", "--role", "app", "--json"], instance_env).stdout)
    assert made["secret"].startswith("hub_sk_") and made["role"] == "app"
    table = run_hub(["keys", "list"], instance_env).stdout
    assert "deploy" in table and "NAME" in table and made["secret"] not in table
    out = run_hub(["keys", "revoke", made["api_key"]], instance_env).stdout
    assert "revoked" in out
    rows = json.loads(run_hub(["keys", "list", "--json"], instance_env).stdout)
    assert next(r for r in rows if r["name"] == "deploy")["revoked_at"]
    missing = run_hub(["keys", "revoke", "nope"], instance_env, check=False)
    assert missing.returncode != 0 and "hub keys list" in missing.stderr
    dup = run_hub(["keys", "create", "--name", "deploy"], instance_env, check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr


def test_orgs_create(instance_env):
    run_hub(["init"], instance_env)
    made = json.loads(run_hub(["orgs", "create", "globex", "--project", "rockets", "--json"], instance_env).stdout)
    assert made["org"] == "globex" and made["project"] == "rockets" and made["secret"].startswith("hub_sk_")
    again = run_hub(["orgs", "create", "globex"], instance_env, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_crypto_status_and_rotate(instance_env):
    run_hub(["init"], instance_env)
    before = json.loads(run_hub(["crypto", "status", "--json"], instance_env).stdout)
    assert [k["state"] for k in before] == ["primary"]
    out = run_hub(["crypto", "rotate"], instance_env).stdout
    after = json.loads(run_hub(["crypto", "status", "--json"], instance_env).stdout)
    states = {k["id"]: k["state"] for k in after}
    assert sorted(states.values()) == ["active", "primary"]
    new_primary = next(i for i, s in states.items() if s == "primary")
    assert new_primary in out and new_primary != before[0]["id"]
    assert "PRIMARY" in run_hub(["crypto", "status"], instance_env).stdout.upper()


def test_wrong_or_missing_root_key_is_refused_clearly(instance_env, tmp_path):
    run_hub(["init"], instance_env)
    import base64
    import secrets
    wrong = base64.b64encode(secrets.token_bytes(32)).decode()
    proc = run_hub(["crypto", "status"], instance_env | {"HUB_ROOT_KEY": wrong}, check=False)
    assert proc.returncode == 1 and "root key" in proc.stderr.lower() and "Traceback" not in proc.stderr
    key_file = tmp_path / "instance" / "root.key"
    key_file.unlink()
    proc = run_hub(["init"], instance_env, check=False)
    assert proc.returncode == 1 and "never made over existing data" in proc.stderr
    assert not key_file.exists()
    proc = run_hub(["serve", "--port", "1"], instance_env, check=False)
    assert proc.returncode == 1 and "root key" in proc.stderr.lower()


def test_flask_app_entry_point_works_too(instance_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | instance_env
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", "hub", "db", "upgrade"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_undecodable_key_name_is_refused_clearly(instance_env):
    run_hub(["init"], instance_env)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | instance_env
    proc = subprocess.run([HUB.encode(), b"keys", b"create", b"--name", b"bad\xffname"], env=env,
                          capture_output=True, timeout=120)
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    assert b"name" in proc.stderr


def test_malformed_root_key_and_settings_are_messages_not_tracebacks(instance_env):
    proc = run_hub(["init"], instance_env | {"HUB_ROOT_KEY": "notbase64"}, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "HUB_ROOT_KEY" in proc.stderr
    proc = run_hub(["serve"], instance_env | {"HUB_VERIFY_ALLOW_HOSTS": "localhost:8080"}, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "HUB_VERIFY_ALLOW_HOSTS" in proc.stderr


def test_sqlite_database_file_is_owner_only(instance_env, tmp_path):
    if instance_env["HUB_DATABASE_URL"].startswith("sqlite"):
        run_hub(["init"], instance_env)
        path = instance_env["HUB_DATABASE_URL"][len("sqlite:///"):]
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
