"""Org-wide integrations: `is_global` on the integration (every project of the org may use it) or
the projects it is shared with (`integration_project`); names unique per provider among an org's
org-wide integrations (a partial unique index: project-scoped rows keep (project, provider, name))."""
from peewee import BooleanField, CharField, ForeignKeyField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Project(Base):
        id = CharField(primary_key=True, max_length=36)

    class Integration(Base):
        id = CharField(primary_key=True, max_length=36)

    class IntegrationProject(Base):
        integration = ForeignKeyField(Integration, on_delete="CASCADE", index=False)
        project = ForeignKeyField(Project, on_delete="CASCADE", index=False)

        class Meta:
            table_name = "integration_project"
            primary_key = False
            indexes = ((("integration", "project"), True), (("project", "integration"), False))

    migrator.migrate(migrator.add_column("integration", "is_global", BooleanField(default=False)))
    db.create_tables([IntegrationProject], safe=True)
    db.execute_sql("CREATE UNIQUE INDEX integration_org_wide_name ON integration "
                   "(org_id, provider, name) WHERE project_id IS NULL")
