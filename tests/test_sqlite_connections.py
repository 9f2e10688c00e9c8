"""SQLite connections as the hub holds them: a serving thread keeps its connection from one
request to the next (never one left inside a transaction), and the process's writers to one file
take turns, settled again by SQLite, without a writer that died holding its turn stalling them."""
import threading

import peewee
import pytest

from hub.storage.database import HubSqliteDatabase, end_request, open_database


@pytest.fixture
def sqlite_hub(hub, backend):
    if backend != "sqlite":
        pytest.skip("SQLite's connections")
    return hub


def test_a_thread_keeps_its_connection_across_requests(sqlite_hub):
    db = sqlite_hub.app.extensions["hub.db"]
    assert sqlite_hub.call("GET", "/v1/projects/payments").status_code == 200
    first = db._state.conn
    assert first is not None and not first.in_transaction
    assert sqlite_hub.call("POST", "/v1/projects/payments/integrations", json={
        "name": "kept", "provider": "slack", "credentials": {"token": "xoxb-1-2-kept"}}).status_code == 201
    assert db._state.conn is first and not first.in_transaction
    seen = []
    worker = threading.Thread(target=lambda: seen.append(
        (sqlite_hub.call("GET", "/v1/projects/payments").status_code, db._state.conn)))
    worker.start()
    worker.join()
    assert seen[0][0] == 200 and seen[0][1] is not first  # each thread its own


def test_a_connection_left_in_a_transaction_is_closed_at_the_end_of_the_request(tmp_path):
    db = open_database(None, tmp_path)
    db.connect()
    db.begin()
    db.execute_sql("CREATE TABLE t (x INTEGER)")
    end_request(db)
    assert db.is_closed()
    db.connect()
    assert db.get_tables() == []  # what it had not committed was rolled back
    end_request(db)
    assert not db.is_closed()  # outside a transaction it stays


def test_concurrent_writers_on_one_file_lose_no_update(tmp_path):
    dbs = [open_database(None, tmp_path) for _ in range(2)]  # two database objects, one file
    with dbs[0].connection_context():
        dbs[0].execute_sql("CREATE TABLE counter (n INTEGER)")
        dbs[0].execute_sql("INSERT INTO counter VALUES (0)")

    def bump(db):
        with db.connection_context():
            for _ in range(50):
                with db.atomic():
                    (n,) = db.execute_sql("SELECT n FROM counter").fetchone()
                    db.execute_sql("UPDATE counter SET n = ?", (n + 1,))

    threads = [threading.Thread(target=bump, args=(dbs[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with dbs[0].connection_context():
        assert dbs[0].execute_sql("SELECT n FROM counter").fetchone() == (400,)


def test_a_writer_whose_thread_died_in_its_transaction_does_not_stall_the_others(tmp_path):
    db = open_database(None, tmp_path, busy_timeout=5)
    assert isinstance(db, HubSqliteDatabase)
    with db.connection_context():
        db.execute_sql("CREATE TABLE t (x INTEGER)")

    def die_inside_a_transaction():
        db.connect()
        db.begin()  # and the thread ends without commit, rollback or close
        db.execute_sql("INSERT INTO t VALUES (1)")

    dying = threading.Thread(target=die_inside_a_transaction)
    dying.start()
    dying.join()
    with db.connection_context():
        with db.atomic():  # takes the turn over; the dead thread's connection goes, and its lock
            db.execute_sql("INSERT INTO t VALUES (2)")
        assert db.execute_sql("SELECT x FROM t").fetchall() == [(2,)]


def test_a_turn_held_by_a_live_writer_times_out_as_sqlite_would(tmp_path):
    holder_db, waiter_db = open_database(None, tmp_path, 5), open_database(None, tmp_path, 0.2)
    holding, done = threading.Event(), threading.Event()

    def hold():
        with holder_db.connection_context(), holder_db.atomic():
            holder_db.execute_sql("CREATE TABLE t (x INTEGER)")
            holding.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    try:
        with waiter_db.connection_context():
            with pytest.raises(peewee.OperationalError, match="database is locked"):
                with waiter_db.atomic():
                    pass
    finally:
        done.set()
        holder.join()
    with waiter_db.connection_context(), waiter_db.atomic():  # free again once it committed
        waiter_db.execute_sql("INSERT INTO t VALUES (1)")
