"""Orgs, projects and API keys: who may do what, and where.

No Flask here: the API, the CLI and tests call these functions alike. A `Principal` is the caller
(an API key, or the local operator through the CLI).
"""
from __future__ import annotations

import dataclasses
import datetime
import re

import peewee

from hub import api_key_tokens, permissions as perms
from hub.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated, invalid_field
from hub.models import ApiKey, Org, Project, database, utcnow
from hub.prepared import Prepared, slot
from hub.storable_text import unstorable

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is calling: the org they act in, what they may do, which projects they reach."""

    org_id: str
    permissions: frozenset[str]
    project_ids: frozenset[str] | None  # None: every project of the org
    key_id: str | None = None  # None: the local operator (CLI)
    actor: str = "cli"  # the key's public id, as audit events name it

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"This API key lacks the permission '{permission}'. "
                            "Ask an owner for a key that has it.")

    def reaches(self, project_id: str) -> bool:
        return self.project_ids is None or project_id in self.project_ids


def operator(org: Org) -> Principal:
    """The local operator running the CLI on the hub's own machine: every permission in one org."""
    return Principal(org_id=org.id, permissions=frozenset(perms.ALL), project_ids=None)


# -- orgs and projects ---------------------------------------------------------------------------

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _check_handle(field: str, value: str) -> None:
    if not isinstance(value, str) or not HANDLE_RE.match(value):
        raise invalid_field(field, "Must be 2-63 characters: lowercase letters, digits and '-', "
                                   "starting with a letter or digit.")
    if UUID_RE.match(value):  # wherever a project is named, a UUID means its id
        raise invalid_field(field, "Must not have the shape of a UUID (those name projects by id).")


def create_org(name: str) -> Org:
    _check_handle("org", name)
    try:
        with database.atomic():
            return Org.create(name=name)
    except peewee.IntegrityError:
        raise Conflict(f"An org named '{name}' already exists.") from None


def create_project(principal: Principal, handle: str, display_name: str | None = None) -> Project:
    principal.require(perms.PROJECTS_ADMIN)
    if principal.project_ids is not None:
        raise Forbidden("This API key is limited to some projects, so it cannot create projects. "
                        "Use a key that reaches every project of the org.")
    _check_handle("handle", handle)
    try:
        with database.atomic():
            return Project.create(org=principal.org_id, handle=handle, display_name=display_name)
    except peewee.IntegrityError:
        raise Conflict(f"The project handle '{handle}' is taken; choose another.",
                       errors={"handle": ["Already taken."]}) from None


def _project_query(principal: Principal):
    query = Project.select().where(Project.org == principal.org_id)
    if principal.project_ids is not None:
        query = query.where(Project.id.in_(list(principal.project_ids)))
    return query


_PROJECT_BY_ID = Prepared(Project, lambda: Project.select().where(
    (Project.org == slot("org")) & (Project.id == slot("ref"))).limit(1))
_PROJECT_BY_HANDLE = Prepared(Project, lambda: Project.select().where(
    (Project.org == slot("org")) & (Project.handle == slot("ref"))).limit(1))


def find_project(principal: Principal, ref: str) -> Project:
    """A project by handle or id, if the principal reaches it; 404 alike for 'elsewhere' and 'absent'."""
    by_id = bool(UUID_RE.match(ref))
    project = (_PROJECT_BY_ID if by_id else _PROJECT_BY_HANDLE).first(org=principal.org_id, ref=ref)
    if project is not None and not principal.reaches(project.id):
        project = None
    if project is None:
        raise NotFound(f"No project '{ref}' that this key can see.")
    return project


def project_by_ref(ref: str) -> Project | None:
    """A project anywhere in the hub, by handle or id: for the local operator (the CLI)."""
    if unstorable(ref):
        return None
    return Project.get_or_none((Project.id if UUID_RE.match(ref) else Project.handle) == ref)


def list_projects(principal: Principal):
    return _project_query(principal)


def delete_project(principal: Principal, ref: str) -> None:
    principal.require(perms.PROJECTS_ADMIN)
    project = find_project(principal, ref)
    # Foreign keys cascade to the project's integrations and secrets (and their ciphertexts).
    with database.atomic():
        Project.delete().where(Project.id == project.id).execute()


# -- API keys ------------------------------------------------------------------------------------

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
    secret = api_key_tokens.new_secret()
    try:
        with database.atomic():
            key = ApiKey.create(
                org=principal.org_id, name=name, public_id=api_key_tokens.new_public_id(),
                secret_hash=keyring.hash_api_key_secret(secret),
                role=role if granted == perms.ROLES.get(role) else None,
                permissions=sorted(granted),
                projects=sorted(project_ids) if project_ids is not None else None,
                created_by=principal.key_id, expires_at=expires_at)
    except peewee.IntegrityError:
        raise Conflict(f"An API key named '{name}' already exists in this org.",
                       errors={"name": ["Already taken."]}) from None
    return key, secret


_KEY_BY_SECRET_HASH = Prepared(ApiKey, lambda: ApiKey.select().where(
    ApiKey.secret_hash == slot("secret_hash")).limit(1))


def authenticate(keyring, secret: str | None) -> Principal:
    """The principal behind a bearer secret, or Unauthenticated. Malformed strings cost no query."""
    if not secret or not api_key_tokens.is_well_formed_secret(secret):
        raise Unauthenticated("Missing or malformed API key. Send 'Authorization: Bearer hub_sk_...'.")
    key = _KEY_BY_SECRET_HASH.first(secret_hash=keyring.hash_api_key_secret(secret))
    if key is None:
        raise Unauthenticated("Unknown API key.")
    if key.revoked_at is not None:
        raise Unauthenticated("This API key was revoked.")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise Unauthenticated("This API key has expired.")
    return principal_of(key)


def principal_of(key: ApiKey) -> Principal:
    return Principal(
        org_id=key.org_id, permissions=frozenset(key.permissions),
        project_ids=frozenset(key.projects) if key.projects is not None else None,
        key_id=key.id, actor=key.public_id)


def api_key_query(principal: Principal):
    principal.require(perms.KEYS_ADMIN)
    return ApiKey.select().where(ApiKey.org == principal.org_id)


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
            ApiKey.update(revoked_at=utcnow()).where(
                (ApiKey.id == key.id) & ApiKey.revoked_at.is_null()).execute()
        key = ApiKey.get_by_id(key.id)
    return key


def project_handles(project_ids) -> list[str]:
    if project_ids is None:
        return None
    return sorted(p.handle for p in Project.select(Project.handle).where(Project.id.in_(list(project_ids))))
