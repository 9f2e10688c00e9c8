"""Row binding (issue 10, findings 4 and 5): for an attacker who can write the database but does
not hold the root key.

- `secret_version.org_id`, and every version's values re-sealed under associated data bound to its
  row, number, secret, project and org (`models.secret_version_aad`) instead of its row and project
  only. A version whose own project copy disagrees with its secret's is left as it is: it opens
  under neither form. Nothing stays readable under the old associated data.
- `integrity` columns (MACs under the keyring's row-MAC key) on `integration`, `integration_project`
  and `api_key`, computed here for every existing row.

Rewriting rows needs the keyring (`migrate.migration_keyring()`), asked for only when there are
rows. The bound fields are frozen here as they are at this step (the runtime lists are in
hub/integrations/integrity.py and hub/tenancy/key_integrity.py); all in the migration's one
transaction, so a failure leaves the database at 0006.
"""
import json
import logging

from peewee import BlobField, BooleanField, CharField, DateTimeField, IntegerField, Model, TextField

from hub.crypto import row_binding
from hub.storage.migrate import migration_keyring
from hub.storage.models import bound, secret_version_aad

BATCH = 500
log = logging.getLogger("hub.migrations")


class _JSON(TextField):
    def python_value(self, value):
        return None if value is None else json.loads(value)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Project(Base):
        id = CharField(primary_key=True, max_length=36)
        org_id = CharField(max_length=36)

    class Secret(Base):
        id = CharField(primary_key=True, max_length=36)
        project_id = CharField(max_length=36)

    class SecretVersion(Base):
        id = CharField(primary_key=True, max_length=36)
        secret_id = CharField(max_length=36)
        project_id = CharField(max_length=36)
        org_id = CharField(max_length=36, null=True)
        version = IntegerField()
        values_key_id = CharField(max_length=32, null=True)
        values_ciphertext = BlobField(null=True)

        class Meta:
            table_name = "secret_version"

    class Integration(Base):
        id = CharField(primary_key=True, max_length=36)
        org_id = CharField(max_length=36)
        project_id = CharField(max_length=36, null=True)
        is_global = BooleanField()
        provider = CharField()
        auth_type = CharField()
        config = _JSON()
        status = CharField()
        fingerprint = CharField()
        integrity = CharField(null=True)

    class IntegrationProject(Base):
        integration_id = CharField(max_length=36)
        project_id = CharField(max_length=36)
        integrity = CharField(null=True)

        class Meta:
            table_name = "integration_project"
            primary_key = False

    class ApiKey(Base):
        id = CharField(primary_key=True, max_length=36)
        org_id = CharField(max_length=36)
        public_id = CharField()
        secret_hash = CharField()
        role = CharField(null=True)
        permissions = _JSON()
        projects = _JSON(null=True)
        created_by = CharField(null=True)
        expires_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)
        integrity = CharField(null=True)

        class Meta:
            table_name = "api_key"

    migrator.migrate(
        migrator.add_column("secret_version", "org_id", CharField(max_length=36, null=True)),
        migrator.add_column("integration", "integrity", CharField(max_length=64, null=True)),
        migrator.add_column("integration_project", "integrity", CharField(max_length=64, null=True)),
        migrator.add_column("api_key", "integrity", CharField(max_length=64, null=True)),
    )
    db.execute_sql("UPDATE secret_version SET org_id = (SELECT p.org_id FROM secret s JOIN project p "
                   "ON p.id = s.project_id WHERE s.id = secret_version.secret_id)")

    if not any(model.select().exists() for model in (SecretVersion, Integration, ApiKey)):
        return  # a new database: nothing to rewrite, no key needed
    with bound(db):  # the keyring reads its table through the models' database
        keyring = migration_keyring()
        _reseal_versions(keyring, Project, Secret, SecretVersion)
        _mac_integrations(keyring, Integration, IntegrationProject)
        _mac_api_keys(keyring, ApiKey)


def _reseal_versions(keyring, Project, Secret, SecretVersion):
    query = (SecretVersion.select(SecretVersion, Secret.project_id.alias("parent_project"),
                                  Project.org_id.alias("parent_org"))
             .join(Secret, on=(Secret.id == SecretVersion.secret_id))
             .join(Project, on=(Project.id == Secret.project_id))
             .where(SecretVersion.values_ciphertext.is_null(False))
             .order_by(SecretVersion.id).objects())
    after = None
    while True:
        batch = list((query.where(SecretVersion.id > after) if after else query).limit(BATCH))
        if not batch:
            return
        after = batch[-1].id
        opened = []
        for row in batch:
            if row.project_id != row.parent_project:
                # Its own project copy disagrees with its secret's (moved by hand): left as it is,
                # which the hub never opens (it knows only the bound form).
                log.warning("0007: secret version %s is not in its secret's project; left "
                            "unreadable", row.id)
                continue
            old_aad = f"secret_version:{row.id}:project:{row.project_id}:values".encode()
            try:
                plaintext = keyring.open_sealed(row.values_key_id, bytes(row.values_ciphertext),
                                                old_aad)
            except Exception:  # does not open now: it opens under no form afterwards either
                continue
            opened.append((row, plaintext, secret_version_aad(
                row.id, org_id=row.parent_org, project_id=row.parent_project,
                secret_id=row.secret_id, version=row.version)))
        sealed = keyring.seal_many([(plaintext, aad) for _, plaintext, aad in opened])
        for (row, _, _), pair in zip(opened, sealed):
            (SecretVersion.update(values_key_id=pair.key_id, values_ciphertext=pair.ciphertext)
             .where(SecretVersion.id == row.id).execute())


def _mac_integrations(keyring, Integration, IntegrationProject):
    orgs = {}
    for row in Integration.select():
        orgs[row.id] = row.org_id
        values = {"id": row.id, "org": row.org_id, "project": row.project_id,
                  "is_global": bool(row.is_global), "provider": row.provider,
                  "auth_type": row.auth_type, "config": row.config, "status": row.status,
                  "fingerprint": row.fingerprint}
        (Integration.update(integrity=row_binding.mac(keyring, "integration", values))
         .where(Integration.id == row.id).execute())
    for link in IntegrationProject.select():
        values = {"org": orgs.get(link.integration_id), "integration": link.integration_id,
                  "project": link.project_id}
        (IntegrationProject.update(integrity=row_binding.mac(keyring, "integration_project", values))
         .where((IntegrationProject.integration_id == link.integration_id)
                & (IntegrationProject.project_id == link.project_id)).execute())


def _mac_api_keys(keyring, ApiKey):
    for key in ApiKey.select():
        values = {"id": key.id, "org": key.org_id, "public_id": key.public_id,
                  "secret_hash": key.secret_hash, "role": key.role,
                  "permissions": sorted(key.permissions or ()),
                  "projects": sorted(key.projects) if key.projects is not None else None,
                  "expires_at": key.expires_at, "revoked_at": key.revoked_at,
                  "created_by": key.created_by}
        (ApiKey.update(integrity=row_binding.mac(keyring, "api_key", values))
         .where(ApiKey.id == key.id).execute())
