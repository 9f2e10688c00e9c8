"""Secrets: named slots in a project, and their immutable versions (values sealed per version).

Frozen copies of the models as they are at this step; independent of hub/storage/models.py and of the
integration tables of 0002.
"""
from peewee import BlobField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Project(Base):
        id = CharField(primary_key=True, max_length=36)

    class Secret(Base):
        id = CharField(primary_key=True, max_length=36)
        project = ForeignKeyField(Project, on_delete="CASCADE", index=False)
        name = CharField(max_length=100)
        description = CharField(max_length=500, null=True)
        current_version = IntegerField(default=0)
        enabled_version = IntegerField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            indexes = (
                (("project", "name"), True),
                (("project", "id"), False),
            )

    class SecretVersion(Base):
        id = CharField(primary_key=True, max_length=36)
        secret = ForeignKeyField(Secret, on_delete="CASCADE", index=False)
        project_id = CharField(max_length=36)
        version = IntegerField()
        state = CharField(max_length=16)
        sha256 = CharField(max_length=64)
        values_key_id = CharField(max_length=32, null=True)
        values_ciphertext = BlobField(null=True)
        created_at = DateTimeField()
        state_changed_at = DateTimeField()

        class Meta:
            table_name = "secret_version"
            indexes = (
                (("secret", "version"), True),
                (("values_key_id",), False),
            )

    # At most one ENABLED version per secret (a partial unique index, on SQLite and PostgreSQL).
    SecretVersion.add_index(SecretVersion.index(
        SecretVersion.secret, unique=True, where=(SecretVersion.state == "ENABLED"),
        name="secret_version_one_enabled"))

    db.create_tables([Secret, SecretVersion], safe=True)
