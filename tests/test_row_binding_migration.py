"""Migration 0007 on a database written at 0006 (SQLite and PostgreSQL): existing secret versions are
re-sealed under the bound associated data, existing integrations, links and API keys get their
MACs, and the hub reads all of it afterwards; without the root key the upgrade refuses and
changes nothing."""
from __future__ import annotations

import base64
import json

import pytest

from hub import tenancy
from hub.crypto import KeyRing, row_binding
from hub.crypto.canonical import canonical_json
from hub.errors import KeyringUnavailable
from hub.integrations import integrity
from hub.storage import migrate
from hub.storage.database import open_database
from hub.storage.models import (
    ApiKey,
    Integration,
    IntegrationProject,
    Secret,
    SecretVersion,
    bound,
    new_id,
    utcnow,
)
from hub.tenancy import key_integrity
from hub.tenancy import permissions as perms
from hub.tenancy import tokens as api_key_tokens

BEFORE = "0006_org_wide_integrations"
JIRA = {"base_url": "https://acme.atlassian.net", "username": "bot@acme.test",
        "api_token": "jira-old-secret"}


def _old_database(url, instance, root_key_b64):
    """A hub as the code of 0006 wrote it: an org, two projects, an owner key, a secret with two
    versions (sealed under the old associated data), a project integration and an org-wide one
    shared with one project."""
    db = open_database(url, instance)
    root = base64.b64decode(root_key_b64)
    with bound(db), db.connection_context():
        migrate._runner(db).up(target=BEFORE)
        keyring = KeyRing.initialize(root)
        org = tenancy.create_org("acme")
        operator = tenancy.operator(org, signer=keyring)
        payments = tenancy.create_project(operator, "payments")
        billing = tenancy.create_project(operator, "billing")
        secret = api_key_tokens.new_secret()
        now = utcnow()
        ApiKey.insert(id=new_id(), org=org.id, name="owner", public_id=api_key_tokens.new_public_id(),
                      secret_hash=keyring.hash_api_key_secret(secret), role="owner",
                      permissions=sorted(perms.ALL), projects=None,
                      created_at=now).execute()
        db_secret = Secret.create(project=payments.id, name="db", current_version=2,
                                  enabled_version=2, created_at=now, updated_at=now)
        moved_secret = Secret.create(project=payments.id, name="moved", current_version=1,
                                     enabled_version=1, created_at=now, updated_at=now)
        versions = {}
        for secret_row, number, state, value, project_id in (
                (db_secret, 1, "DISABLED", "pw-1", payments.id),
                (db_secret, 2, "ENABLED", "pw-2", payments.id),
                # Its own project copy disagrees with its secret's (moved before the upgrade).
                (moved_secret, 1, "ENABLED", "pw-moved", billing.id)):
            row_id = new_id()
            sealed = keyring.seal(canonical_json({"password": value}),
                                  f"secret_version:{row_id}:project:{project_id}:values".encode())
            SecretVersion.insert(id=row_id, secret=secret_row.id, project_id=project_id,
                                 version=number, state=state, sha256="0" * 64,
                                 values_key_id=sealed.key_id, values_ciphertext=sealed.ciphertext,
                                 created_at=now, state_changed_at=now).execute()
            versions[value] = row_id
        integrations = {}
        for name, project_id, provider, auth_type, credentials in (
                ("alerts", payments.id, "slack", "token", {"token": "xoxb-old-token"}),
                ("company-jira", None, "jira", "basic_auth", JIRA)):
            row = Integration(id=new_id(), org=org.id, project=project_id)
            plaintext = canonical_json(credentials)
            sealed = keyring.seal(plaintext, row.sealed_aad())
            Integration.insert(
                id=row.id, org=org.id, project=project_id, name=name, provider=provider,
                auth_type=auth_type, config={}, tags=[], status="active",
                credentials_key_id=sealed.key_id, credentials_ciphertext=sealed.ciphertext,
                credential_fields=sorted(credentials), fingerprint=keyring.fingerprint(plaintext),
                credentials_updated_at=now, created_at=now, updated_at=now,
                is_global=False).execute()
            integrations[name] = row.id
        IntegrationProject.insert(integration=integrations["company-jira"],
                                  project=billing.id).execute()
    return db, keyring, secret, versions, integrations


@pytest.fixture
def old(database_url, tmp_path, root_key_b64):
    db, keyring, secret, versions, integrations = _old_database(database_url, tmp_path, root_key_b64)
    yield db, keyring, secret, versions, integrations
    if hasattr(db, "close_all"):
        db.close_all()
    elif not db.is_closed():
        db.close()


def test_upgrade_without_the_root_key_refuses_and_changes_nothing(old):
    db = old[0]
    with pytest.raises(KeyringUnavailable, match="root key"):
        migrate.upgrade(db)
    assert migrate.pending(db)[0].startswith("0007")
    with db.connection_context():
        assert "integrity" not in {c.name for c in db.get_columns("api_key")}
        assert "org_id" not in {c.name for c in db.get_columns("secret_version")}


def test_upgrade_reseals_and_macs_every_row_and_the_hub_reads_them(old, make_app, database_url):
    db, keyring, secret, versions, integrations = old
    applied = migrate.upgrade(db, keyring=lambda: keyring)
    assert applied[0].startswith("0007")
    with bound(db), db.connection_context():
        for row in SecretVersion.select().join(Secret).where(
                Secret.project == SecretVersion.project_id):  # the moved one is left as it was
            old_aad = f"secret_version:{row.id}:project:{row.project_id}:values".encode()
            with pytest.raises(Exception):  # nothing opens under the weak form any more
                keyring.open_sealed(row.values_key_id, bytes(row.values_ciphertext), old_aad)
        assert all(row_binding.verifies(keyring, integrity.KIND, integrity.bound_values(row),
                                        row.integrity) for row in Integration.select())
        assert all(row_binding.verifies(keyring, key_integrity.KIND, key_integrity.bound_values(k),
                                        k.integrity) for k in ApiKey.select())
        links = list(IntegrationProject.select())
        assert len(links) == 1 and links[0].integrity
    app = make_app(DATABASE_URL=database_url, PLUGINS_ENTRYPOINTS=True)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}

    def call(method, path, body=None):
        return client.open(path, method=method, json=body, headers=auth)

    assert call("GET", "/v1/projects").status_code == 200
    resolved = call("POST", "/v1/projects/payments/secrets:resolve",
                    {"template": "${secret:db.password}"})
    assert resolved.json == {"result": "pw-2"}, resolved.json
    assert call("POST", "/v1/projects/payments/secrets/db/versions/1:enable").status_code == 200
    assert call("POST", "/v1/projects/payments/secrets:resolve",
                {"template": "${secret:db.password}"}).json == {"result": "pw-1"}
    # The version whose project copy disagreed with its secret's stays unreadable.
    moved = call("POST", "/v1/projects/payments/secrets:resolve",
                 {"template": "${secret:moved.password}"})
    assert moved.status_code == 500 and "pw-moved" not in moved.get_data(as_text=True)
    door = call("GET", f"/v1/projects/payments/integrations/{integrations['alerts']}/credentials")
    assert door.json["credentials"] == {"token": "xoxb-old-token"}
    shared = call("GET", "/v1/integrations/credentials?project=billing")
    assert [item["credentials"] for item in shared.json["items"]] == [JIRA]
    assert call("GET", "/v1/integrations/credentials?project=payments").json["items"] == []
    # And an edit after the upgrade is refused like any other.
    with bound(db), db.connection_context():
        (ApiKey.update(permissions=["projects:read"])
         .where(ApiKey.name == "owner").execute())
    assert call("GET", "/v1/projects").status_code == 401


def test_hub_db_upgrade_opens_the_keyring_for_0007(old, make_app, database_url):
    db, keyring, secret, _, _ = old
    app = make_app(DATABASE_URL=database_url)
    result = app.test_cli_runner().invoke(args=["db", "upgrade", "--json"])
    assert result.exit_code == 0, result.output
    assert [name[:4] for name in json.loads(result.output)["applied"]][0] == "0007"
    client = app.test_client()
    assert client.get("/v1/projects", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_hub_db_upgrade_with_the_wrong_root_key_refuses_cleanly(old, make_app, database_url):
    wrong = base64.b64encode(b"\x01" * 32).decode()
    app = make_app(DATABASE_URL=database_url, ROOT_KEY=wrong)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "root key" in result.output.lower()
    assert migrate.pending(old[0])[0].startswith("0007")


def test_hub_init_on_an_old_database_upgrades_it_too(old, make_app, database_url):
    db, keyring, secret, _, integrations = old
    app = make_app(DATABASE_URL=database_url, PLUGINS_ENTRYPOINTS=True)
    result = app.test_cli_runner().invoke(args=["init", "--org", "acme", "--project", "payments"])
    assert result.exit_code == 0, result.output
    assert migrate.pending(db) == []
    door = app.test_client().get(
        f"/v1/projects/payments/integrations/{integrations['alerts']}/credentials",
        headers={"Authorization": f"Bearer {secret}"})
    assert door.json["credentials"] == {"token": "xoxb-old-token"}
