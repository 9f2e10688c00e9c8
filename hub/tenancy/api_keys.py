"""API keys: creating (never granting more than the creator has), authenticating a bearer secret, revoking."""
from __future__ import annotations

import datetime
import json

from hub.audit import log as audit
from hub.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated, invalid_field
from hub.storage.conflicts import atomic_or
from hub.storage.models import ApiKey, database, utcnow
from hub.storage.prepared import Prepared, slot
from hub.storage.storable_text import unstorable
from hub.tenancy import key_integrity
from hub.tenancy import permissions as perms
from hub.tenancy import tokens as api_key_tokens
from hub.tenancy.principal import Principal
from hub.tenancy.projects import find_project
from hub.timestamps import to_iso


def _expand(role: str | None, permissions: list[str] | None) -> frozenset[str]:
    if role is not None and role not in perms.ROLES:
        raise invalid_field("role", f"Unknown role; use one of {', '.join(perms.ROLES)}.")
    granted = set(perms.ROLES[role]) if role else set()
    for index, name in enumerate(permissions or ()):
        if name not in perms.ALL:
            raise invalid_field(f"permissions.{index}", f"Unknown permission '{name}'.")
        granted.add(name)
    if not granted:
        raise InvalidInput("Give a role or a list of permissions.",
                           errors={"role": ["Give a role or permissions."]})
    return frozenset(granted)


def _resolve_projects(principal: Principal, refs: list[str] | None) -> frozenset[str] | None:
    if refs is None:
        if principal.project_ids is not None:
            raise Forbidden("This key reaches only some projects, so it cannot make a key for every "
                            "project; name the projects.")
        return None
    ids = set()
    for index, ref in enumerate(refs):
        try:
            ids.add(find_project(principal, ref).id)
        except NotFound:
            raise invalid_field(f"projects.{index}", f"No project '{ref}' that this key can see.") from None
    return frozenset(ids)


def create_api_key(keyring, principal: Principal, *, name: str, role: str | None = None,
                   permissions: list[str] | None = None, projects: list[str] | None = None,
                   expires_at: datetime.datetime | None = None) -> tuple[ApiKey, str]:
    """A new key and its secret, which is returned here once and stored only as a keyed hash."""
    principal.require(perms.KEYS_ADMIN)
    problem = unstorable(name) if isinstance(name, str) else "Must be text."
    if problem is None and not 1 <= len(name) <= 255:
        problem = "Must be 1-255 characters."
    if problem:
        raise invalid_field("name", problem)
    if not role and not permissions:
        role = "member"
    granted = _expand(role, permissions)
    lacking = granted - principal.permissions
    if lacking:
        raise Forbidden(f"A key cannot grant what it lacks: {', '.join(sorted(lacking))}.")
    project_ids = _resolve_projects(principal, projects)
    if expires_at is not None and expires_at <= utcnow():
        raise invalid_field("expires_at", "Must be in the future.")
    if principal.expires_at is not None and (expires_at is None or expires_at > principal.expires_at):
        # A key cannot outlive the key that made it: otherwise an expiring key could mint an
        # everlasting one.
        raise invalid_field("expires_at", "This key expires at "
                            f"{to_iso(principal.expires_at)}; a key it makes must expire no later "
                            "(give an expires_at at or before it).")
    secret = api_key_tokens.new_secret()
    taken = Conflict(f"An API key named '{name}' already exists in this org.",
                     errors={"name": ["Already taken."]})
    with atomic_or(taken):
        key = ApiKey.create(
            org=principal.org_id, name=name, public_id=api_key_tokens.new_public_id(),
            secret_hash=keyring.hash_api_key_secret(secret),
            role=role,  # kept as given: an app key stays read-only whatever else it lists
            permissions=sorted(granted),
            projects=sorted(project_ids) if project_ids is not None else None,
            created_by=principal.key_id, expires_at=expires_at)
        key_integrity.restamp(keyring, key.id)
        audit.record(principal, "api_key.create", target_type="api_key", target_id=key.id,
                     details={"api_key": key.public_id, "name": name, "role": key.role,
                              "permissions": key.permissions, "projects": key.projects})
    return key, secret


_KEY_BY_SECRET_HASH = Prepared(ApiKey, lambda: ApiKey.select().where(
    ApiKey.secret_hash == slot("secret_hash")).limit(1))


def authenticate(keyring, secret: str | None, *, request_id: str | None = None,
                 client_ip: str | None = None) -> Principal:
    """The principal behind a bearer secret, or Unauthenticated. Malformed strings cost no query.

    :param request_id: and `client_ip`: where the call came from, carried into audit events."""
    if not secret or not api_key_tokens.is_well_formed_secret(secret):
        raise Unauthenticated("Missing or malformed API key. Send 'Authorization: Bearer hub_sk_...'.")
    key = _KEY_BY_SECRET_HASH.first(secret_hash=keyring.hash_api_key_secret(secret))
    if key is None:
        raise Unauthenticated("Unknown API key.")
    if key.revoked_at is not None:
        raise Unauthenticated("This API key was revoked.")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise Unauthenticated("This API key has expired.")
    # What refuses is believed as stored; what grants only once the row's MAC verifies.
    key_integrity.require(keyring, key)
    return principal_of(key, signer=keyring, request_id=request_id, client_ip=client_ip)


def principal_of(key: ApiKey, **where) -> Principal:
    """The key's principal; `where`: its request_id, client_ip and signer (built once, on the
    request path, rather than replaced field by field)."""
    return Principal(
        org_id=key.org_id, permissions=frozenset(key.permissions),
        project_ids=frozenset(key.projects) if key.projects is not None else None,
        key_id=key.id, actor=key.public_id, role=key.role, expires_at=key.expires_at, **where)


def api_key_query(principal: Principal):
    """The org's keys this key may see: all of them, or, for a key limited to some projects,
    those whose projects lie within its own (so it learns nothing of projects it cannot reach)."""
    principal.require(perms.KEYS_ADMIN)
    query = ApiKey.select().where(ApiKey.org == principal.org_id)
    if principal.project_ids is None:
        return query
    # `projects` is a JSON list, which SQL cannot compare portably; an org's keys are few, so
    # the ids of those within reach are found here and the page is then an index range on them.
    within = [key_id for key_id, projects in ApiKey.select(ApiKey.id, ApiKey.projects)
              .where((ApiKey.org == principal.org_id) & ApiKey.projects.is_null(False)).tuples()
              if set(json.loads(projects) if isinstance(projects, str) else projects)
              <= principal.project_ids]
    return query.where(ApiKey.id.in_(within))


def find_api_key(principal: Principal, key_id: str) -> ApiKey:
    key = api_key_query(principal).where((ApiKey.id == key_id) | (ApiKey.public_id == key_id)).first()
    if key is None:
        raise NotFound(f"No API key '{key_id}' in this org.")
    return key


def revoke_api_key(principal: Principal, key_id: str) -> ApiKey:
    key = find_api_key(principal, key_id)
    target = principal_of(key)
    wider_projects = principal.project_ids is not None and (
        target.project_ids is None or not target.project_ids <= principal.project_ids)
    if not target.permissions <= principal.permissions or wider_projects:
        raise Forbidden("A key cannot revoke a key that can do more than it can.")
    if key.revoked_at is None:
        with database.atomic():
            revoked = ApiKey.update(revoked_at=utcnow()).where(
                (ApiKey.id == key.id) & ApiKey.revoked_at.is_null()).execute()
            if revoked:  # not already revoked by a concurrent call
                if principal.signer is not None:  # the keyring: un-revoking breaks the MAC
                    key_integrity.restamp(principal.signer, key.id)
                audit.record(principal, "api_key.revoke", target_type="api_key", target_id=key.id,
                             details={"api_key": key.public_id, "name": key.name})
        key = ApiKey.get_by_id(key.id)
    return key
