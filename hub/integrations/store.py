"""Writing integrations: create, update, delete and copy, with credentials sealed to their row."""
from __future__ import annotations

from hub.audit import log as audit
from hub.crypto.canonical import canonical_json
from hub.errors import Conflict, InvalidInput, NotFound, invalid_field
from hub.integrations import integrity
from hub.integrations.records import find_in_project, open_credentials
from hub.integrations.validation import (
    auth_method_for,
    loaded_provider,
    normalized_tags,
    provider_named,
    refuse_host_change_without_credentials,
    validate_against,
)
from hub.services import Services
from hub.storage.conflicts import atomic_or
from hub.storage.models import Integration, IntegrationTag, Project, database, new_id, utcnow
from hub.tenancy import Principal, find_project
from hub.tenancy import permissions as perms
from hub.verification.record import apply_result, run_for


def _seal_credentials(keyring, row: Integration, credentials: dict) -> None:
    canonical = canonical_json(credentials)
    sealed = keyring.seal(canonical, row.sealed_aad())
    row.credentials_key_id = sealed.key_id
    row.credentials_ciphertext = sealed.ciphertext
    row.credential_fields = sorted(credentials)
    row.fingerprint = keyring.fingerprint(canonical)
    row.credentials_updated_at = utcnow()


def replace_credentials(keyring, row: Integration, credentials: dict) -> None:
    """Reseal a stored row's credentials and save them, in the caller's transaction (an OAuth
    refresh or reconnection: hub/oauth/). The row's MAC must verify first: a new one is never
    computed over fields that someone else wrote."""
    integrity.require(keyring, row)
    _seal_credentials(keyring, row, credentials)
    integrity.stamp(keyring, row)  # the fingerprint is bound
    row.expired_reason = None
    row.updated_at = utcnow()
    row.save(only=[Integration.credentials_key_id, Integration.credentials_ciphertext,
                   Integration.credential_fields, Integration.fingerprint,
                   Integration.credentials_updated_at, Integration.expired_reason,
                   Integration.updated_at, Integration.integrity])


def replace_tags(row: Integration) -> None:
    IntegrationTag.delete().where(IntegrationTag.integration == row.id).execute()
    if row.tags:
        IntegrationTag.insert_many([{"integration": row.id, "tag": t} for t in row.tags]).execute()


def _name_taken(provider: str, name: str) -> Conflict:
    return Conflict(f"A '{provider}' integration named '{name}' already exists in this project; "
                    "choose another name.", errors={"name": ["Already taken for this provider."]})


def insert(keyring, row: Integration, credentials: dict, name_taken: Conflict, event) -> None:
    """Seal the credentials for this new row and store it, with `event()` (its audit event and
    anything else that belongs to the row) in the same transaction; the unique indexes settle name
    races."""
    _seal_credentials(keyring, row, credentials)
    integrity.stamp(keyring, row)

    def refused():
        if row.project_id and not Project.select().where(Project.id == row.project_id).exists():
            return NotFound("The project was deleted while the integration was being created.")
        return name_taken

    with atomic_or(refused):
        row.save(force_insert=True)
        replace_tags(row)
        event()


def new_row(services: Services, principal: Principal, data: dict, *, org_id: str,
            project_id: str | None, verify: bool) -> tuple[Integration, dict]:
    """A new integration row from a create request, and its validated credentials; with `verify`,
    the provider's check runs first and a failure refuses (nothing is stored)."""
    provider = provider_named(services.providers, data["provider"])
    method = auth_method_for(provider, data.get("auth_type"))
    credentials = validate_against(method.credentials_schema, data["credentials"], "credentials")
    config = validate_against(provider.config_schema, data.get("config") or {}, "config")
    row = Integration(
        id=new_id(), org=org_id, project=project_id, name=data["name"],
        provider=provider.name, auth_type=method.id, display_name=data.get("display_name"),
        description=data.get("description"), config=config, tags=normalized_tags(data.get("tags")),
        status="active", expires_at=data.get("expires_at"))
    if verify:
        principal.require(perms.INTEGRATIONS_VERIFY)  # ?verify=true needs it too (API.md)
        result = run_for(services, provider, method.id, credentials, config, org_id=org_id)
        if not result["ok"]:
            error = result["error"]
            raise InvalidInput(f"The provider's check failed ({error['code']}): {error['message']} "
                               "Nothing was stored.", errors={"credentials": [error["message"]]},
                               verification=result)
        apply_result(row, result)
    return row, credentials


def create(services: Services, principal: Principal, project_ref: str, data: dict, *,
           verify: bool = False) -> tuple[Project, Integration]:
    principal.require(perms.INTEGRATIONS_WRITE)
    project = find_project(principal, project_ref)
    row, credentials = new_row(services, principal, data, org_id=project.org_id,
                               project_id=project.id, verify=verify)
    insert(services.keyring, row, credentials, _name_taken(row.provider, row.name),
            lambda: record(principal, "integration.create", row, project,
                            {"provider": row.provider, "name": row.name, "auth_type": row.auth_type,
                             "verified": verify}))
    return project, row


def update(services: Services, principal: Principal, project_ref: str, integration_id: str,
           changes: dict) -> tuple[Project, Integration]:
    """PUT: each field given replaces that field whole; omitted fields stay."""
    principal.require(perms.INTEGRATIONS_WRITE)
    project = find_project(principal, project_ref)
    with database.atomic():
        row = find_in_project(project, integration_id, for_update=True)
        integrity.require(services.keyring, row)  # never re-MAC fields someone else wrote
        apply_changes(services, row, changes)
        integrity.stamp(services.keyring, row)
        # Only a rename can collide (the unique (project, provider, name) index).
        with atomic_or(_name_taken(row.provider, changes.get("name", ""))):
            row.save()
            if "tags" in changes:
                replace_tags(row)
        record(principal, "integration.update", row, project, {"fields": sorted(changes)})
    return project, row


def apply_changes(services: Services, row: Integration, changes: dict) -> None:
    """A PUT's fields onto the row (validated by the provider's schemas; credentials resealed)."""
    if "provider" in changes and changes["provider"] != row.provider:
        raise invalid_field("provider", f"An integration's provider cannot change (it is "
                                        f"'{row.provider}'); create a new integration instead.")
    provider = loaded_provider(services.providers, row)
    auth_type = changes.get("auth_type", row.auth_type)
    new_credentials = changes.get("credentials")
    if auth_type != row.auth_type and new_credentials is None:
        raise invalid_field("credentials", "Required when auth_type changes: the credentials of "
                                           f"'{auth_type}' differ from those of '{row.auth_type}'.")
    method = auth_method_for(provider, auth_type)
    if "config" in changes:
        config = validate_against(provider.config_schema, changes["config"] or {}, "config")
        if new_credentials is None:
            refuse_host_change_without_credentials(provider, row.config, config)
        row.config = config
    if new_credentials is not None:
        credentials = validate_against(method.credentials_schema, new_credentials, "credentials")
        row.auth_type = method.id
        _seal_credentials(services.keyring, row, credentials)
        # New credentials revive an expired integration: the old token's expiry and the check
        # that found it expired or revoked were about the old credentials.
        row.expired_reason = None
        if "expires_at" not in changes and row.expires_at is not None and row.expires_at <= utcnow():
            row.expires_at = None
    for field in ("name", "display_name", "description", "expires_at"):
        if field in changes:
            setattr(row, field, changes[field])
    if "status" in changes:
        row.status = changes["status"]
    if "tags" in changes:
        row.tags = normalized_tags(changes["tags"])
    row.updated_at = utcnow()


def delete(principal: Principal, project_ref: str, integration_id: str) -> None:
    """The record goes, and its ciphertext with it."""
    principal.require(perms.INTEGRATIONS_WRITE)
    project = find_project(principal, project_ref)
    with database.atomic():
        row = find_in_project(project, integration_id, for_update=True)
        Integration.delete().where(Integration.id == row.id).execute()
        record(principal, "integration.delete", row, project,
                {"provider": row.provider, "name": row.name})


def copy(services: Services, principal: Principal, project_ref: str, source_project_ref: str,
         source_integration_id: str, name: str | None = None) -> tuple[Project, Integration]:
    """Clone config and credentials into this project, resealed for the new row."""
    principal.require(perms.INTEGRATIONS_WRITE)
    principal.require(perms.INTEGRATIONS_READ)
    project = find_project(principal, project_ref)
    source_project = find_project(principal, source_project_ref)  # another org: 404
    if source_project.org_id != project.org_id:
        raise NotFound(f"No project '{source_project_ref}' that this key can see.")
    source = find_in_project(source_project, source_integration_id)
    provider = services.providers.get(source.provider)
    method = provider.auth_method(source.auth_type) if provider is not None else None
    if method is not None and method.oauth is not None:
        # Two integrations holding one rotating refresh token: the first refresh would spend it
        # for the other, which would then read expired.
        raise invalid_field("source_integration_id", "An OAuth connection cannot be copied (its "
                                                     "refresh token rotates): connect the "
                                                     "provider in this project instead.")
    credentials = open_credentials(services.keyring, source)
    row = Integration(
        id=new_id(), org=project.org_id, project=project.id, name=name or source.name,
        provider=source.provider, auth_type=source.auth_type, display_name=source.display_name,
        description=source.description, config=source.config, tags=source.tags,
        status=source.status, expired_reason=source.expired_reason, expires_at=source.expires_at)
    insert(services.keyring, row, credentials, Conflict(
        f"A '{row.provider}' integration named '{row.name}' already exists in project "
        f"'{project.handle}'; give the copy another name with \"name\".",
        errors={"name": ["Already taken for this provider."]}),
        lambda: record(principal, "integration.copy", row, project,
                        {"source_integration_id": source.id, "source_project": source_project.handle,
                         "provider": row.provider, "name": row.name}))
    return project, row


def record(principal: Principal, action: str, row: Integration, project: Project, details: dict) -> None:
    """The event of a change, in its transaction: names and field names, never a credential."""
    audit.record(principal, action, target_type="integration", target_id=row.id, project=project,
                 details=details)
