"""Integrations listed with ?provider= walk an index in id order, so such a page costs the same at
any size of the project."""


def up(migrator, db):
    migrator.migrate(migrator.add_index("integration", ("project_id", "provider", "id"), False))
