"""Reading integrations: the API record (never a credential value), status, queries, and opening sealed credentials."""
from __future__ import annotations

import datetime
import json

import peewee

from hub import crypto
from hub.errors import Corrupted, NotFound
from hub.integrations import integrity
from hub.plugins.describe import secret_fields
from hub.sdk import Provider
from hub.storage.models import (
    Integration,
    IntegrationProject,
    IntegrationTag,
    Project,
    database,
    utcnow,
)
from hub.storage.prepared import Prepared, slot
from hub.tenancy import Principal, find_project
from hub.tenancy import permissions as perms

SETTABLE_STATUSES = ("active", "inactive")


def applies_to(project: Project):
    """The SQL condition: an org-wide integration of the project's org that applies to it."""
    shared = IntegrationProject.select(IntegrationProject.integration).where(
        IntegrationProject.project == project.id)
    return ((Integration.org == project.org_id) & Integration.project.is_null()
            & (Integration.is_global | Integration.id.in_(shared)))


def effective_status(row: Integration, now: datetime.datetime | None = None) -> str:
    if row.status == "inactive":
        return "inactive"
    now = now or utcnow()
    if row.expired_reason or (row.expires_at is not None and row.expires_at <= now):
        return "expired"
    return "active"


def active_condition(now: datetime.datetime | None = None):
    """The SQL condition of `effective_status(row) == "active"`."""
    return _status_condition("active", now or utcnow())


def _status_condition(status: str, now: datetime.datetime):
    expired = Integration.expired_reason.is_null(False) | (
        Integration.expires_at.is_null(False) & (Integration.expires_at <= now))
    if status == "inactive":
        return Integration.status == "inactive"
    if status == "expired":
        return (Integration.status == "active") & expired
    return (Integration.status == "active") & ~expired


def to_record(row: Integration, project_handle: str | None, provider: Provider | None, *,
              shared_with: list[str] | None = None, shared: bool | None = None) -> dict:
    """The API's integration record. Credential values never appear in it.

    An org-wide integration (`project` null) also has `is_global` and `projects` (the handles it
    is shared with, from `shared_with`); in a project's list with `include_shared`, every record
    says whether it is an org-wide one (`shared`).
    """
    config = dict(row.config)
    if provider is not None:  # belt and braces: a config field a plugin marks secret is not shown
        for name in secret_fields(provider.config_schema):
            config.pop(name, None)
    return {
        "id": row.id, "project": project_handle, "name": row.name, "provider": row.provider,
        "auth_type": row.auth_type, "display_name": row.display_name, "description": row.description,
        "config": config, "tags": row.tags, "status": effective_status(row),
        "credentials": {"fields": row.credential_fields, "fingerprint": row.fingerprint,
                        "updated_at": row.credentials_updated_at},
        "expires_at": row.expires_at, "last_verification": row.last_verification,
        "created_at": row.created_at, "updated_at": row.updated_at,
    } | _scope_fields(row, shared_with, shared)


def _scope_fields(row: Integration, shared_with: list[str] | None, shared: bool | None) -> dict:
    fields = {}
    if row.project_id is None:
        fields["is_global"] = bool(row.is_global)
        fields["projects"] = None if row.is_global else list(shared_with or [])
    if shared is not None:
        fields["shared"] = shared
    return fields


def list_query(principal: Principal, project_ref: str, *, provider: str | None = None,
               status: str | None = None, tag: str | None = None, include_shared: bool = False):
    """A project's integrations (and, with `include_shared`, the org-wide ones that apply to it)."""
    principal.require(perms.INTEGRATIONS_READ)
    project = find_project(principal, project_ref)
    own = Integration.project == project.id
    query = Integration.select().where((own | applies_to(project)) if include_shared else own)
    if provider:
        query = query.where(Integration.provider == provider)
    if status:
        query = query.where(_status_condition(status, utcnow()))
    if tag:
        tagged = IntegrationTag.select(IntegrationTag.integration).where(IntegrationTag.tag == tag)
        query = query.where(Integration.id.in_(tagged))
    return project, integrity.checked(query, principal.signer)


def _in_project(for_update: bool):
    query = Integration.select().where(
        (Integration.project == slot("project")) & (Integration.id == slot("id")))
    if for_update and not isinstance(database.obj, peewee.SqliteDatabase):
        query = query.for_update()  # SQLite's BEGIN IMMEDIATE already holds the write lock
    return query


# Every read of one integration (and every credential-door read) finds it this way.
_IN_PROJECT = Prepared(Integration, lambda: _in_project(False))
_IN_PROJECT_FOR_UPDATE = Prepared(Integration, lambda: _in_project(True))


def find_in_project(project: Project, integration_id: str, *, for_update: bool = False) -> Integration:
    row = (_IN_PROJECT_FOR_UPDATE if for_update else _IN_PROJECT).first(
        project=project.id, id=integration_id)
    if row is None:
        raise NotFound(f"No integration '{integration_id}' in project '{project.handle}'.")
    return row


def get(principal: Principal, project_ref: str, integration_id: str) -> tuple[Project, Integration]:
    principal.require(perms.INTEGRATIONS_READ)
    project = find_project(principal, project_ref)
    row = find_in_project(project, integration_id)
    if principal.signer is not None:  # the keyring
        integrity.require(principal.signer, row)
    return project, row


def open_credentials(keyring, row: Integration) -> dict:
    """The decrypted credentials, from a row whose MAC verifies (Corrupted otherwise: nothing
    is sent anywhere). Callers that return them must be the audited door."""
    integrity.require(keyring, row)
    try:
        plaintext = keyring.open_sealed(row.credentials_key_id, row.credentials_ciphertext, row.sealed_aad())
    except crypto.DecryptionFailed:
        raise Corrupted(f"The stored credentials of integration '{row.id}' do not decrypt (key "
                        f"{row.credentials_key_id}): the row was altered or its data key is gone. "
                        "Send the credentials again with PUT.") from None
    integrity.require_fingerprint(keyring, row, plaintext)
    return json.loads(plaintext)
