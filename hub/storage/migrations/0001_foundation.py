"""Foundation: the keyring, orgs, projects and API keys.

The models here are frozen copies, deliberately independent of hub/storage/models.py: a migration must
build the schema as it was at this step, whatever the models say later.
"""
from peewee import BlobField, CharField, DateTimeField, ForeignKeyField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Keyring(Base):
        id = CharField(primary_key=True, max_length=32)
        purpose = CharField(max_length=16)
        state = CharField(max_length=16)
        wrapped = BlobField()
        created_at = DateTimeField()
        state_changed_at = DateTimeField()

        class Meta:
            table_name = "keyring"
            indexes = ((("purpose", "state"), False),)

    class Org(Base):
        id = CharField(primary_key=True, max_length=36)
        name = CharField(max_length=63, unique=True)
        created_at = DateTimeField()

    class Project(Base):
        id = CharField(primary_key=True, max_length=36)
        org = ForeignKeyField(Org, on_delete="CASCADE", index=False)
        handle = CharField(max_length=63, unique=True)
        display_name = CharField(max_length=255, null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            indexes = ((("org", "id"), False),)

    class ApiKey(Base):
        id = CharField(primary_key=True, max_length=36)
        org = ForeignKeyField(Org, on_delete="CASCADE", index=False)
        name = CharField(max_length=255)
        public_id = CharField(max_length=64, unique=True)
        secret_hash = CharField(max_length=64, unique=True)
        role = CharField(max_length=32, null=True)
        permissions = TextField()
        projects = TextField(null=True)
        created_by = CharField(max_length=36, null=True)
        created_at = DateTimeField()
        expires_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)

        class Meta:
            table_name = "api_key"
            indexes = ((("org", "name"), True), (("org", "id"), False))

    db.create_tables([Keyring, Org, Project, ApiKey], safe=True)
