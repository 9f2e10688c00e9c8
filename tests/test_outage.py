"""The database going away: every route answers 503 problem+json quickly, and the hub recovers by
itself once the database answers again (issue 11). PostgreSQL only: the outage is made by refusing
connections to the test's database and terminating its backends, then allowing them again."""
from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlparse

import pytest

from hub.errors import DatabaseUnavailable
from tests.conftest import PG_DSN

SLACK = {"name": "alerts", "provider": "slack", "credentials": {"token": "xoxb-outage-test-token"}}


def _admin():
    import psycopg2

    conn = psycopg2.connect(f"{PG_DSN}/postgres")
    conn.autocommit = True
    return conn


def _set_allow_connections(name: str, allowed: bool) -> None:
    conn = _admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
            if not allowed:
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
    finally:
        conn.close()


def _requests(hub, integration_id: str):
    return [
        ("GET", "/healthz", None),
        ("GET", "/v1/projects", None),
        ("POST", "/v1/projects", {"handle": f"p-{time.monotonic_ns() % 10**9}"}),
        ("GET", f"/v1/projects/payments/integrations/{integration_id}/credentials", None),
        ("GET", f"/v1/projects/payments/integrations/{integration_id}", None),
    ]


def _timed(hub, method, path, body):
    started = time.monotonic()
    resp = hub.call(method, path, json=body, key=None if path == "/healthz" else "owner")
    elapsed = time.monotonic() - started
    print(f"{method} {path}: {resp.status_code} in {elapsed:.3f} s")  # shown with pytest -s
    return resp, elapsed


@pytest.fixture
def pg_hub(hub, backend):
    if backend != "postgres":
        pytest.skip("the outage is made on PostgreSQL")
    return hub


def test_outage_answers_503_fast_and_recovers(pg_hub):
    hub = pg_hub
    name = urlparse(hub.app.config["DATABASE_URL"]).path.strip("/")
    created = hub.call("POST", "/v1/projects/payments/integrations", json=SLACK)
    assert created.status_code == 201, created.json
    integration_id = created.json["id"]
    assert hub.call("GET", "/healthz", key=None).status_code == 200  # the pool is warm

    try:
        _set_allow_connections(name, False)
        for method, path, body in _requests(hub, integration_id):
            resp, elapsed = _timed(hub, method, path, body)
            assert resp.status_code == 503, (method, path, resp.status_code, resp.get_data(as_text=True))
            assert resp.headers["Content-Type"] == "application/problem+json"
            assert resp.json["status"] == 503 and resp.json["title"] == "Service unavailable"
            assert resp.json["detail"] == DatabaseUnavailable.public_detail  # the log has the rest
            assert elapsed < 5, (method, path, elapsed)
    finally:
        _set_allow_connections(name, True)

    # Back without a restart: the same requests succeed, the integration is still there.
    for method, path, body in _requests(hub, integration_id):
        resp, _ = _timed(hub, method, path, body)
        assert resp.status_code in (200, 201), (method, path, resp.status_code, resp.get_data(as_text=True))
    door = hub.call("GET", f"/v1/projects/payments/integrations/{integration_id}/credentials")
    assert door.json["credentials"]["token"] == SLACK["credentials"]["token"]


@pytest.mark.parametrize("in_transaction", [False, True], ids=["autocommit", "in-transaction"])
def test_backend_dying_mid_request_is_503_and_the_connection_is_dropped(pg_hub, in_transaction):
    """A connection killed while a request holds it (not between requests, where the pool's
    check-out test catches it) fails that request with 503, and the pool does not hand it out again."""
    hub = pg_hub
    name = urlparse(hub.app.config["DATABASE_URL"]).path.strip("/")
    db = hub.app.extensions["hub.db"]

    @hub.app.route("/_test/die")
    def die():
        if in_transaction:  # the rollback on the way out fails too
            with db.atomic():
                db.execute_sql("SELECT 1")
                _set_allow_connections(name, False)  # kills the connection this request holds
                db.execute_sql("SELECT 1")
        else:
            _set_allow_connections(name, False)
            db.execute_sql("SELECT 1")
        return {"status": "unreachable"}

    try:
        resp = hub.call("GET", "/_test/die", key=None)
        assert resp.status_code == 503, resp.get_data(as_text=True)
        assert resp.headers["Content-Type"] == "application/problem+json"
    finally:
        _set_allow_connections(name, True)
    assert all(not conn.closed for _, _, conn in db._connections)
    assert hub.call("GET", "/healthz", key=None).status_code == 200
    assert hub.call("GET", "/v1/projects").status_code == 200


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: a database host that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_database_host_that_never_answers_is_503_within_seconds(make_app, backend, silent_server):
    if backend != "postgres":
        pytest.skip("PostgreSQL's connect timeout")
    app = make_app(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{silent_server}/hub")
    client = app.test_client()
    started = time.monotonic()
    resp = client.get("/healthz")
    elapsed = time.monotonic() - started
    print(f"GET /healthz, a host that never answers: {resp.status_code} in {elapsed:.3f} s")
    assert resp.status_code == 503 and resp.headers["Content-Type"] == "application/problem+json"
    assert elapsed < 5, elapsed


def test_postgres_connections_time_out_unless_the_url_says_otherwise():
    """No database needed: the pool's libpq settings, and the URL's query string winning."""
    pytest.importorskip("psycopg2")
    from hub.storage.database import PG_CONNECT_DEFAULTS, open_database

    db = open_database("postgresql://hub@db.invalid:5432/hub", ".")
    assert {k: db.connect_params[k] for k in PG_CONNECT_DEFAULTS} == PG_CONNECT_DEFAULTS
    assert db.connect_params["connect_timeout"] == 3
    db = open_database("postgresql://hub@db.invalid:5432/hub?connect_timeout=10&keepalives=0", ".")
    assert db.connect_params["connect_timeout"] == 10 and db.connect_params["keepalives"] == 0
    assert db.connect_params["tcp_user_timeout"] == 5000
