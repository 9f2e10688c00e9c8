"""OAuth: the org's client registrations (`oauth_app`, client secret sealed) and the connections
started but not yet called back (`oauth_pending`, keyed by the state's hash, verifier sealed)."""
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

    class OAuthApp(Base):
        id = CharField(primary_key=True, max_length=36)
        org = ForeignKeyField(Org, on_delete="CASCADE", index=False)
        provider = CharField(max_length=63)
        name = CharField(max_length=100)
        client_id = CharField(max_length=255)
        client_secret_key_id = CharField(max_length=32)
        client_secret_ciphertext = BlobField()
        scopes = TextField(null=True)
        redirect_origins = TextField()
        authorize_url = CharField(max_length=2048, null=True)
        token_url = CharField(max_length=2048, null=True)
        api_base_url = CharField(max_length=2048, null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            table_name = "oauth_app"
            indexes = ((("org", "provider", "name"), True), (("org", "id"), False),
                       (("client_secret_key_id",), False))

    class OAuthPending(Base):
        state_hash = CharField(primary_key=True, max_length=64)
        org = ForeignKeyField(Org, on_delete="CASCADE", index=False)
        project = ForeignKeyField(Project, on_delete="CASCADE", index=False)
        oauth_app = ForeignKeyField(OAuthApp, on_delete="CASCADE", index=False)
        provider = CharField(max_length=63)
        name = CharField(max_length=100)
        scopes = TextField()
        return_to = CharField(max_length=2048, null=True)
        created_by = CharField(max_length=36, null=True)
        verifier_key_id = CharField(max_length=32)
        verifier_ciphertext = BlobField()
        created_at = DateTimeField()
        expires_at = DateTimeField()

        class Meta:
            table_name = "oauth_pending"
            indexes = ((("expires_at",), False), (("verifier_key_id",), False))

    db.create_tables([OAuthApp, OAuthPending], safe=True)
