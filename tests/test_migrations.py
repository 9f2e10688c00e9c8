"""Migrations are versioned, recorded, and safe to apply twice."""
from hub.storage import migrate


def test_upgrade_twice_is_a_no_op(make_app):
    app = make_app()
    db = app.extensions["hub.db"]
    first = migrate.upgrade(db)
    assert first and first[0].startswith("0001")
    assert migrate.upgrade(db) == []
    assert migrate.pending(db) == []
    with db.connection_context():
        tables = set(db.get_tables())
    assert {"keyring", "org", "project", "api_key", "schema_migration"} <= tables


def test_db_upgrade_command_twice(make_app):
    app = make_app()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0 and "applied: 0001" in first.output
    second = runner.invoke(args=["db", "upgrade"])
    assert second.exit_code == 0 and "up to date" in second.output


def test_every_migration_applies_on_this_backend_and_the_provider_index_exists(make_app):
    app = make_app()
    db = app.extensions["hub.db"]
    applied = migrate.upgrade(db)
    assert [name[:4] for name in applied] == sorted(name[:4] for name in applied)
    assert any(name.startswith("0004") for name in applied)
    with db.connection_context():
        indexes = {tuple(ix.columns) for ix in db.get_indexes("integration")}
    assert ("project_id", "provider", "id") in indexes
