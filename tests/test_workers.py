"""`hub serve --workers N`: gunicorn worker processes on one PostgreSQL database, as a real process.

Many clients at once across two workers: one integration name is created once, a secret's versions
stay consecutive with one enabled, and a `hub crypto rotate` in another process is followed at once.
"""
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HUB = str(Path(sys.executable).with_name("hub"))
BACKENDS = os.environ.get("HUB_TEST_BACKENDS", "sqlite,postgres").split(",")
PROJECT = "/v1/projects/default"

pytestmark = pytest.mark.skipif("postgres" not in BACKENDS, reason="needs the PostgreSQL server")


def _env(tmp_path, database_url) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return env | {"HUB_INSTANCE_PATH": str(tmp_path / "instance"), "HUB_DATABASE_URL": database_url}


def _hub(args, env, check=True):
    proc = subprocess.run([HUB, *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert not check or proc.returncode == 0, proc.stderr
    return proc


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Client:
    def __init__(self, base, secret):
        self.base, self.secret = base, secret

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.secret}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


def _problems(log_path) -> str:
    return "\n".join(line for line in log_path.read_text().splitlines()
                     if "hub.access" not in line and "gunicorn" not in line.lower())


@pytest.fixture
def served(tmp_path, database_url):
    """`hub serve --workers 2` on the test's PostgreSQL database; yields (client, env, log path).

    4 threads each: at most 8 connections of the server's 100, which other tests share."""
    env = _env(tmp_path, database_url)
    secret = json.loads(_hub(["init", "--json"], env).stdout)["secret"]
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([HUB, "serve", "--workers", "2", "--threads", "4", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        client = _Client(f"http://127.0.0.1:{port}", secret)
        deadline = time.monotonic() + 15
        booted = 0
        while booted < 2:  # both workers up, so that both take requests
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
            booted = log_path.read_text().count("Booting worker")
        while True:
            try:
                if client.call("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        yield client, env, log_path
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.parametrize("backend", ["postgres"])
def test_two_workers_on_one_postgresql(served, database_url):
    client, env, log_path = served
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=100)

    # 100 clients create the same (provider, name): one 201, every other a 409, never a 5xx.
    body = {"name": "alerts", "provider": "slack", "credentials": {"token": "xoxb-1"}}
    statuses = list(pool.map(lambda _: client.call("POST", f"{PROJECT}/integrations", body)[0], range(100)))
    assert sorted(set(statuses)) == [201, 409], (statuses, _problems(log_path))
    assert statuses.count(201) == 1

    # 50 writes of one secret at once: versions 1..51, one ENABLED.
    status, _ = client.call("POST", f"{PROJECT}/secrets", {"name": "db", "values": {"password": "v0"}})
    assert status == 201
    writes = list(pool.map(
        lambda i: client.call("PUT", f"{PROJECT}/secrets/db", {"values": {"password": f"v{i}"}})[0],
        range(1, 51)))
    assert writes == [200] * 50, (writes, _problems(log_path))
    status, page = client.call("GET", f"{PROJECT}/secrets/db/versions?limit=200")
    assert status == 200 and not page["has_more"]
    assert sorted(v["version"] for v in page["items"]) == list(range(1, 52))
    assert [v["state"] for v in page["items"]].count("ENABLED") == 1
    pool.shutdown()

    # A rotation in another process is followed at once by every worker.
    rotated = _hub(["crypto", "rotate"], env).stdout
    new_primary = rotated.split("new primary data key: ")[1].split(".")[0]
    ids = []
    for i in range(4):  # several, so that both workers (very likely) seal one
        status, made = client.call("POST", f"{PROJECT}/integrations",
                                   {"name": f"after-{i}", "provider": "slack", "credentials": {"token": "xoxb-2"}})
        assert status == 201, made
        ids.append(made["id"])
    import psycopg2

    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT DISTINCT credentials_key_id FROM integration WHERE id = ANY(%s)", (ids,))
            assert [row[0] for row in cur.fetchall()] == [new_primary]
    finally:
        conn.close()
    status_rows = json.loads(_hub(["crypto", "status", "--json"], env).stdout)
    assert next(r for r in status_rows if r["id"] == new_primary)["ciphertexts"] == 4


@pytest.mark.parametrize("backend", ["sqlite"])
def test_many_workers_on_sqlite_are_refused(tmp_path, database_url):
    env = _env(tmp_path, database_url)
    _hub(["init"], env)
    proc = _hub(["serve", "--workers", "2", "--port", str(_free_port())], env, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "SQLite is for one process" in last and "--workers 1" in last and "serving" not in proc.stderr


@pytest.mark.parametrize("backend", ["postgres"])
def test_many_workers_on_a_port_in_use_is_one_sentence(tmp_path, database_url):
    env = _env(tmp_path, database_url)
    _hub(["init"], env)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _hub(["serve", "--workers", "2", "--port", str(port)], env, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "serving" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: Cannot listen on 127.0.0.1:{port}") and "--port" in last
