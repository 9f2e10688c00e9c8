"""Integrations: a provider's credentials and config in a project, and their whole lifecycle.

No Flask here: the API, the CLI and tests call these functions with what they need (`Services`).
Credentials are validated by the provider's schema, sealed with the keyring bound to their row,
and never returned by anything in this module except `open_credentials`.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import re
from typing import Any, Callable

import marshmallow
import peewee

from hub import crypto, permissions as perms
from hub.errors import Conflict, Corrupted, InvalidInput, NotFound, flatten_messages, invalid_field
from hub.models import Integration, IntegrationTag, Project, database, new_id, utcnow
from hub.plugins import ProviderRegistry
from hub.provider_schemas import host_fields, secret_fields
from hub.providers import Provider
from hub.tenancy import Principal, find_project
from hub.verification import run_check

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
SETTABLE_STATUSES = ("active", "inactive")
EXPIRING_ERRORS = ("expired", "revoked")  # verification codes that make an integration read expired


@dataclasses.dataclass(frozen=True)
class Services:
    """What integration operations need from the running hub."""

    keyring: Any
    providers: ProviderRegistry
    http_client: Callable[[], Any]  # a fresh HttpClient for one check (timeouts, address policy)


# -- reading -------------------------------------------------------------------------------------

def effective_status(row: Integration, now: datetime.datetime | None = None) -> str:
    if row.status == "inactive":
        return "inactive"
    now = now or utcnow()
    if row.expired_reason or (row.expires_at is not None and row.expires_at <= now):
        return "expired"
    return "active"


def _status_condition(status: str, now: datetime.datetime):
    expired = Integration.expired_reason.is_null(False) | (
        Integration.expires_at.is_null(False) & (Integration.expires_at <= now))
    if status == "inactive":
        return Integration.status == "inactive"
    if status == "expired":
        return (Integration.status == "active") & expired
    return (Integration.status == "active") & ~expired


def to_record(row: Integration, project_handle: str | None, provider: Provider | None) -> dict:
    """The API's integration record. Credential values never appear in it."""
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
    }


def list_query(principal: Principal, project_ref: str, *, provider: str | None = None,
               status: str | None = None, tag: str | None = None):
    principal.require(perms.INTEGRATIONS_READ)
    project = find_project(principal, project_ref)
    query = Integration.select().where(Integration.project == project.id)
    if provider:
        query = query.where(Integration.provider == provider)
    if status:
        query = query.where(_status_condition(status, utcnow()))
    if tag:
        tagged = IntegrationTag.select(IntegrationTag.integration).where(IntegrationTag.tag == tag)
        query = query.where(Integration.id.in_(tagged))
    return project, query


def _find(project: Project, integration_id: str, *, for_update: bool = False) -> Integration:
    query = Integration.select().where(
        (Integration.project == project.id) & (Integration.id == integration_id))
    if for_update and not isinstance(database.obj, peewee.SqliteDatabase):
        query = query.for_update()  # SQLite's BEGIN IMMEDIATE already holds the write lock
    row = query.first()
    if row is None:
        raise NotFound(f"No integration '{integration_id}' in project '{project.handle}'.")
    return row


def get(principal: Principal, project_ref: str, integration_id: str) -> tuple[Project, Integration]:
    principal.require(perms.INTEGRATIONS_READ)
    project = find_project(principal, project_ref)
    return project, _find(project, integration_id)


def open_credentials(keyring, row: Integration) -> dict:
    """The decrypted credentials. Callers that return them must be the audited door."""
    try:
        plaintext = keyring.open_sealed(row.credentials_key_id, row.credentials_ciphertext, row.sealed_aad())
    except crypto.DecryptionFailed:
        raise Corrupted(f"The stored credentials of integration '{row.id}' do not decrypt (key "
                        f"{row.credentials_key_id}): the row was altered or its data key is gone. "
                        "Send the credentials again with PUT.") from None
    return json.loads(plaintext)


# -- validation ----------------------------------------------------------------------------------

def provider_named(registry: ProviderRegistry, name: str) -> Provider:
    provider = registry.get(name)
    if provider is None:
        known = ", ".join(registry.names()) or "none are loaded"
        raise invalid_field("provider", f"Unknown provider '{name}'. Known providers: {known}.")
    return provider


def _loaded_provider(registry: ProviderRegistry, row: Integration) -> Provider:
    provider = registry.get(row.provider)
    if provider is None:
        raise Conflict(f"The provider '{row.provider}' of this integration is not loaded on this hub; "
                       "'hub providers list' shows which plugins loaded and why others failed.")
    return provider


def _json_safe(value):
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def validate_against(schema_cls: type[marshmallow.Schema], data, field: str) -> dict:
    """Load `data` with a provider's schema; errors are named `<field>.<name>`."""
    if not isinstance(data, dict):
        raise invalid_field(field, "Must be an object.")
    try:
        loaded = schema_cls().load(data)
    except marshmallow.ValidationError as exc:
        errors = flatten_messages(exc.messages, field)
        raise InvalidInput(f"The {field} do not fit the provider's schema: {', '.join(sorted(errors))}.",
                           errors=errors) from None
    return _json_safe(loaded)


def auth_method_for(provider: Provider, auth_type: str | None):
    if auth_type is None:
        return provider.default_auth_method
    method = provider.auth_method(auth_type)
    if method is None:
        known = ", ".join(m.id for m in provider.auth_methods)
        raise invalid_field("auth_type", f"Provider '{provider.name}' has no auth method '{auth_type}'; "
                                         f"use one of: {known}.")
    return method


def refuse_host_change_without_credentials(provider: Provider, old_config: dict, new_config: dict) -> None:
    """A stored token must not be redirected to a server of a writer's choosing."""
    for name in host_fields(provider.config_schema):
        if new_config.get(name) != old_config.get(name):
            raise invalid_field(f"config.{name}", "Changing the server this integration talks to "
                                "requires sending its credentials again in the same request.")


def _check_tags(tags) -> list[str]:
    return sorted(set(tags or ()))


def _canonical(credentials: dict) -> bytes:
    return json.dumps(credentials, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _seal_credentials(keyring, row: Integration, credentials: dict) -> None:
    canonical = _canonical(credentials)
    sealed = keyring.seal(canonical, row.sealed_aad())
    row.credentials_key_id = sealed.key_id
    row.credentials_ciphertext = sealed.ciphertext
    row.credential_fields = sorted(credentials)
    row.fingerprint = keyring.fingerprint(canonical)
    row.credentials_updated_at = utcnow()


def _replace_tags(row: Integration) -> None:
    IntegrationTag.delete().where(IntegrationTag.integration == row.id).execute()
    if row.tags:
        IntegrationTag.insert_many([{"integration": row.id, "tag": t} for t in row.tags]).execute()


def _name_taken(provider: str, name: str) -> Conflict:
    return Conflict(f"A '{provider}' integration named '{name}' already exists in this project; "
                    "choose another name.", errors={"name": ["Already taken for this provider."]})


def _insert(keyring, row: Integration, credentials: dict, name_taken: Conflict) -> None:
    """Seal the credentials for this new row and store it; the unique index settles name races."""
    _seal_credentials(keyring, row, credentials)
    try:
        with database.atomic():
            row.save(force_insert=True)
            _replace_tags(row)
    except peewee.IntegrityError:
        if not Project.select().where(Project.id == row.project_id).exists():
            raise NotFound("The project was deleted while the integration was being created.") from None
        raise name_taken from None


# -- verification results ------------------------------------------------------------------------

def _parse_iso(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed


def _apply_result(row: Integration, result: dict) -> None:
    """What a check tells about the stored credentials: still good, expired or revoked, expiry."""
    row.last_verification = result
    if result["ok"]:
        row.expired_reason = None
    elif result["error"] and result["error"]["code"] in EXPIRING_ERRORS:
        row.expired_reason = result["error"]["code"]
    if result.get("expires_at"):
        row.expires_at = _parse_iso(result["expires_at"])


def _check(services: Services, provider: Provider, auth_type: str, credentials: dict, config: dict) -> dict:
    return run_check(provider, auth_type, credentials, config, services.http_client())


# -- writing -------------------------------------------------------------------------------------

def create(services: Services, principal: Principal, project_ref: str, data: dict, *,
           verify: bool = False) -> tuple[Project, Integration]:
    principal.require(perms.INTEGRATIONS_WRITE)
    project = find_project(principal, project_ref)
    provider = provider_named(services.providers, data["provider"])
    method = auth_method_for(provider, data.get("auth_type"))
    credentials = validate_against(method.credentials_schema, data["credentials"], "credentials")
    config = validate_against(provider.config_schema, data.get("config") or {}, "config")
    row = Integration(
        id=new_id(), org=project.org_id, project=project.id, name=data["name"],
        provider=provider.name, auth_type=method.id, display_name=data.get("display_name"),
        description=data.get("description"), config=config, tags=_check_tags(data.get("tags")),
        status="active", expires_at=data.get("expires_at"))
    if verify:
        result = _check(services, provider, method.id, credentials, config)
        if not result["ok"]:
            error = result["error"]
            raise InvalidInput(f"The provider's check failed ({error['code']}): {error['message']} "
                               "Nothing was stored.", errors={"credentials": [error["message"]]},
                               verification=result)
        _apply_result(row, result)
    _insert(services.keyring, row, credentials, _name_taken(provider.name, row.name))
    return project, row


def update(services: Services, principal: Principal, project_ref: str, integration_id: str,
           changes: dict) -> tuple[Project, Integration]:
    """PUT: each field given replaces that field whole; omitted fields stay."""
    principal.require(perms.INTEGRATIONS_WRITE)
    project = find_project(principal, project_ref)
    try:
        with database.atomic():
            row = _find(project, integration_id, for_update=True)
            _apply_changes(services, row, changes)
            row.save()
            if "tags" in changes:
                _replace_tags(row)
    except peewee.IntegrityError:
        raise _name_taken(row.provider, changes.get("name", "")) from None
    return project, row


def _apply_changes(services: Services, row: Integration, changes: dict) -> None:
    if "provider" in changes and changes["provider"] != row.provider:
        raise invalid_field("provider", f"An integration's provider cannot change (it is "
                                        f"'{row.provider}'); create a new integration instead.")
    provider = _loaded_provider(services.providers, row)
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
        row.tags = _check_tags(changes["tags"])
    row.updated_at = utcnow()


def delete(principal: Principal, project_ref: str, integration_id: str) -> None:
    """The record goes, and its ciphertext with it."""
    principal.require(perms.INTEGRATIONS_WRITE)
    project = find_project(principal, project_ref)
    with database.atomic():
        row = _find(project, integration_id, for_update=True)
        Integration.delete().where(Integration.id == row.id).execute()


def copy(services: Services, principal: Principal, project_ref: str, source_project_ref: str,
         source_integration_id: str, name: str | None = None) -> tuple[Project, Integration]:
    """Clone config and credentials into this project, resealed for the new row."""
    principal.require(perms.INTEGRATIONS_WRITE)
    principal.require(perms.INTEGRATIONS_READ)
    project = find_project(principal, project_ref)
    source_project = find_project(principal, source_project_ref)  # another org: 404
    if source_project.org_id != project.org_id:
        raise NotFound(f"No project '{source_project_ref}' that this key can see.")
    source = _find(source_project, source_integration_id)
    credentials = open_credentials(services.keyring, source)
    row = Integration(
        id=new_id(), org=project.org_id, project=project.id, name=name or source.name,
        provider=source.provider, auth_type=source.auth_type, display_name=source.display_name,
        description=source.description, config=source.config, tags=source.tags,
        status=source.status, expired_reason=source.expired_reason, expires_at=source.expires_at)
    _insert(services.keyring, row, credentials, Conflict(
        f"A '{row.provider}' integration named '{row.name}' already exists in project "
        f"'{project.handle}'; give the copy another name with \"name\".",
        errors={"name": ["Already taken for this provider."]}))
    return project, row


# -- verification --------------------------------------------------------------------------------

def verify_stored(services: Services, principal: Principal, project_ref: str, integration_id: str,
                  proposal: dict | None = None) -> dict:
    """Check the stored credentials and record the result; with a proposal (`config` and/or
    `credentials` over the stored ones), check that instead and store nothing."""
    principal.require(perms.INTEGRATIONS_VERIFY)
    project = find_project(principal, project_ref)
    row = _find(project, integration_id)
    if not proposal:
        return check_and_record(services, row)
    provider = _loaded_provider(services.providers, row)
    method = auth_method_for(provider, row.auth_type)
    config = row.config
    if "credentials" in proposal:
        credentials = validate_against(method.credentials_schema, proposal["credentials"], "credentials")
    else:
        credentials = open_credentials(services.keyring, row)
    if "config" in proposal:
        config = validate_against(provider.config_schema, proposal["config"] or {}, "config")
        if "credentials" not in proposal:
            refuse_host_change_without_credentials(provider, row.config, config)
    return _check(services, provider, method.id, credentials, config)


def check_and_record(services: Services, row: Integration) -> dict:
    """Check an integration's stored credentials and store the result on it."""
    provider = _loaded_provider(services.providers, row)
    credentials = open_credentials(services.keyring, row)
    result = _check(services, provider, row.auth_type, credentials, row.config)
    with database.atomic():
        current = Integration.get_or_none(Integration.id == row.id)
        # Only if the row is as it was when checked: a PUT that came between (new credentials, a new
        # expires_at) is not overwritten by a result about what it replaced.
        if current is not None and current.updated_at == row.updated_at:
            _apply_result(current, result)
            current.save(only=[Integration.last_verification, Integration.expired_reason,
                               Integration.expires_at])
    return result


def verify_unsaved(services: Services, principal: Principal, provider_name: str, data: dict) -> dict:
    """The dry run: check credentials that are not stored. Nothing is stored."""
    principal.require(perms.INTEGRATIONS_VERIFY)
    provider = services.providers.get(provider_name)
    if provider is None:
        raise NotFound(f"No provider '{provider_name}'. Known providers: "
                       f"{', '.join(services.providers.names()) or 'none are loaded'}.")
    method = auth_method_for(provider, data.get("auth_type"))
    credentials = validate_against(method.credentials_schema, data["credentials"], "credentials")
    config = validate_against(provider.config_schema, data.get("config") or {}, "config")
    return _check(services, provider, method.id, credentials, config)
