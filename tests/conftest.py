"""Fixtures: a hub on real SQLite and on the real PostgreSQL at 127.0.0.1:5432.

Each test session makes its own PostgreSQL databases and drops them at the end. `database_url`
is an empty database (for tests of set-up and migrations); the `hub` fixture starts from a
database migrated once per session and emptied for each test (a copied SQLite file, a truncated
PostgreSQL schema), which costs a fraction of migrating again. Set HUB_TEST_BACKENDS=sqlite to
skip PostgreSQL on a machine without it.
"""
from __future__ import annotations

import base64
import dataclasses
import os
import secrets
import shutil
import uuid
from pathlib import Path

import pytest

from hub import bootstrap, tenancy
from hub.app import create_app
from hub.storage import migrate
from hub.storage.database import open_database
from hub.storage.models import Org, Project

PG_DSN = os.environ.get("HUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
BACKENDS = os.environ.get("HUB_TEST_BACKENDS", "sqlite,postgres").split(",")


def _pg_database(suffix: str = ""):
    import psycopg2

    name = f"hub_test_{os.getpid()}_{secrets.token_hex(4)}{suffix}"
    admin = psycopg2.connect(f"{PG_DSN}/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_DSN}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture(scope="session")
def pg_database_url():
    yield from _pg_database()


@pytest.fixture(scope="session")
def pg_migrated_url():
    """A PostgreSQL database migrated once for the session; tests empty it (`_empty_pg`)."""
    for url in _pg_database("_m"):
        db = open_database(url, ".")
        migrate.upgrade(db)
        db.close_all()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database migrated once for the session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "hub.db"
    db = open_database(f"sqlite:///{path}", path.parent)
    migrate.upgrade(db)
    db.close()
    return path


def _empty_pg(url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'schema_migration'")
        tables = [name for (name,) in cur.fetchall()]
        # DELETE, not TRUNCATE: on a few small tables it is many times faster (TRUNCATE makes new
        # files for every table and index); replica mode skips the foreign-key checks.
        cur.execute("BEGIN; SET LOCAL session_replication_role = replica; "
                    + "".join(f'DELETE FROM "{name}";' for name in tables) + " COMMIT")
    conn.close()


def _reset_pg_schema(url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(request, backend, tmp_path):
    """An empty database on the test's backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url = request.getfixturevalue("pg_database_url")
    _reset_pg_schema(url)
    return url


@pytest.fixture
def migrated_database_url(request, backend, tmp_path):
    """An empty database with the current schema, on the test's backend."""
    if backend == "sqlite":
        path = tmp_path / "hub.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        path.chmod(0o600)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_migrated_url")
    _empty_pg(url)
    return url


@pytest.fixture
def root_key_b64():
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def make_app(request, backend, tmp_path, root_key_b64):
    """Build apps on the test's database (the `hub`'s when the test has one, else an empty one);
    all their pools are closed at teardown."""
    apps = []

    def make(**overrides):
        url = overrides.pop("DATABASE_URL", None) or (
            apps[0].config["DATABASE_URL"] if apps else request.getfixturevalue("database_url"))
        config = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url,
                  "ROOT_KEY": root_key_b64, "PLUGINS_ENTRYPOINTS": False, "TESTING": True}
        config.update(overrides)
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        db = app.extensions["hub.db"]
        if hasattr(db, "close_all"):
            db.close_all()
        elif not db.is_closed():
            db.close()


@dataclasses.dataclass
class Hub:
    """A set-up hub: an org with a project and an owner key, and a client to call it with."""

    app: object
    client: object
    owner_secret: str
    org: Org
    project: Project

    def call(self, method: str, path: str, *, key: str | None = "owner", json=None, headers=None, **kw):
        headers = dict(headers or {})
        secret = self.owner_secret if key == "owner" else key
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        return self.client.open(path, method=method, json=json, headers=headers, **kw)

    def make_key(self, *, role=None, permissions=None, projects=None, org=None, expires_at=None,
                 name=None) -> str:
        """A key made directly through the domain (as the CLI does); returns its secret."""
        with self.app.app_context(), self.app.extensions["hub.db"].connection_context():
            owner = tenancy.operator(org or self.org)
            _, secret = tenancy.create_api_key(
                self.app.extensions["hub.keyring"].get(), owner, name=name or f"k-{uuid.uuid4().hex[:8]}",
                role=role, permissions=permissions, projects=projects, expires_at=expires_at)
        return secret

    def make_org(self, name: str, project: str | None = None) -> tuple[Org, str]:
        """Another org with an owner key; returns (org, owner secret)."""
        with self.app.app_context(), self.app.extensions["hub.db"].connection_context():
            setup = bootstrap.ensure_org(self.app.extensions["hub.keyring"].get(), name, project)
        return setup.org, setup.secret


@pytest.fixture
def hub(make_app, migrated_database_url) -> Hub:
    # The built-in providers load through their entry points, as in production; checks may call
    # the fake provider servers that tests run on 127.0.0.1.
    app = make_app(DATABASE_URL=migrated_database_url, PLUGINS_ENTRYPOINTS=True,
                   VERIFY_ALLOW_HOSTS="127.0.0.1", VERIFY_TIMEOUT=2)
    with app.app_context(), app.extensions["hub.db"].connection_context():
        setup = bootstrap.initialize(app.config, app.extensions["hub.db"], "acme", "payments")
    return Hub(app=app, client=app.test_client(), owner_secret=setup.secret, org=setup.org,
               project=setup.project)
