"""Two hubs in one process each use their own database (the models bind per app context).

A process-global database proxy let a second `create_app` rebind the first app's models: app A
then read app B's keyring and answered 503. Each app now binds its own database while one of its
contexts is active, in requests, CLI commands and `with app.app_context()` alike.
"""
import base64
import secrets
import threading

from hub import bootstrap
from hub.app import create_app
from hub.storage.models import Project


def _hub(tmp_path, name, database_url=None):
    config = {"INSTANCE_PATH": str(tmp_path / name), "ROOT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
              "PLUGINS_ENTRYPOINTS": False, "TESTING": True}
    if database_url:
        config["DATABASE_URL"] = database_url
    app = create_app(config)
    with app.app_context(), app.extensions["hub.db"].connection_context():
        setup = bootstrap.initialize(app.config, app.extensions["hub.db"], f"org-{name}", f"proj-{name}")
    return app, setup.secret


def _projects(app, secret):
    resp = app.test_client().get("/v1/projects", headers={"Authorization": f"Bearer {secret}"})
    return resp.status_code, [p["handle"] for p in resp.get_json().get("items", [])]


def test_two_apps_each_serve_their_own_database(tmp_path, database_url):
    # One on the test's backend (SQLite or PostgreSQL), the other on its own SQLite file.
    app_a, key_a = _hub(tmp_path, "a", database_url)
    app_b, key_b = _hub(tmp_path, "b")
    assert _projects(app_a, key_a) == (200, ["proj-a"])  # A was made first, then B: A still works
    assert _projects(app_b, key_b) == (200, ["proj-b"])
    assert _projects(app_a, key_b)[0] == 401  # B's key means nothing to A
    assert _projects(app_b, key_a)[0] == 401
    for app in (app_a, app_b):
        db = app.extensions["hub.db"]
        if hasattr(db, "close_all"):
            db.close_all()


def test_nested_app_contexts_see_their_own_rows(tmp_path):
    app_a, _ = _hub(tmp_path, "a")
    app_b, _ = _hub(tmp_path, "b")
    with app_a.app_context():
        assert [p.handle for p in Project.select()] == ["proj-a"]
        with app_b.app_context():
            assert [p.handle for p in Project.select()] == ["proj-b"]
        assert [p.handle for p in Project.select()] == ["proj-a"]  # back to A's database


def test_two_apps_serving_at_once_from_threads(tmp_path):
    app_a, key_a = _hub(tmp_path, "a")
    app_b, key_b = _hub(tmp_path, "b")
    results, barrier = [], threading.Barrier(8)

    def call(app, key, expected):
        barrier.wait(timeout=10)
        for _ in range(20):
            results.append(_projects(app, key) == (200, [expected]))

    threads = [threading.Thread(target=call, args=(app, key, expected))
               for app, key, expected in [(app_a, key_a, "proj-a"), (app_b, key_b, "proj-b")] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 160 and all(results)
