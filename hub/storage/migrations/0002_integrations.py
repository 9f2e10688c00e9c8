"""Integrations: a provider's credentials (sealed) and config, in a project or (later) org-wide."""
from peewee import BlobField, CharField, DateTimeField, ForeignKeyField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Org(Base):
        id = CharField(primary_key=True, max_length=36)

    class Project(Base):
        id = CharField(primary_key=True, max_length=36)

    class Integration(Base):
        id = CharField(primary_key=True, max_length=36)
        org = ForeignKeyField(Org, on_delete="CASCADE", index=False)
        # Null for an org-wide integration (a later migration adds how those are shared).
        project = ForeignKeyField(Project, null=True, on_delete="CASCADE", index=False)
        name = CharField(max_length=100)
        provider = CharField(max_length=63)
        auth_type = CharField(max_length=63)
        display_name = CharField(max_length=100, null=True)
        description = CharField(max_length=500, null=True)
        config = TextField()
        tags = TextField()
        status = CharField(max_length=16)
        expired_reason = CharField(max_length=16, null=True)
        credentials_key_id = CharField(max_length=32)
        credentials_ciphertext = BlobField()
        credential_fields = TextField()
        fingerprint = CharField(max_length=64)
        credentials_updated_at = DateTimeField()
        expires_at = DateTimeField(null=True)
        last_verification = TextField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            indexes = (
                (("project", "provider", "name"), True),
                (("project", "id"), False),
                (("org", "id"), False),
                (("credentials_key_id",), False),
            )

    class IntegrationTag(Base):
        integration = ForeignKeyField(Integration, on_delete="CASCADE", index=False)
        tag = CharField(max_length=64)

        class Meta:
            table_name = "integration_tag"
            primary_key = False
            indexes = ((("integration", "tag"), True), (("tag", "integration"), False))

    db.create_tables([Integration, IntegrationTag], safe=True)
