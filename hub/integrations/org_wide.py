"""Org-wide integrations: credentials that belong to a whole org (a company-wide Jira).

The same record as a project's integration, with `project` null and either `is_global` (every
project of the org may use it) or the projects it is shared with (`integration_project`), exactly
one of the two. A key sees an org-wide integration when it applies to a project the key reaches;
it may create or change one only if it reaches every project the integration names (and, for
`is_global`, every project of the org). Deleting one removes it from every project that used it.
"""
from __future__ import annotations

import peewee

from hub.errors import Conflict, Forbidden, InvalidInput, NotFound, invalid_field
from hub.integrations import integrity
from hub.integrations.store import apply_changes, insert, new_row, record, replace_tags
from hub.services import Services
from hub.storage.conflicts import atomic_or
from hub.storage.models import Integration, IntegrationProject, Project, database
from hub.tenancy import Principal, find_project
from hub.tenancy import permissions as perms
from hub.verification.record import verify_row


def shared_with(principal: Principal, rows: list[Integration]) -> dict[str, list[str]]:
    """Integration id -> the handles of the projects it is shared with that the key reaches (one
    query for a page): a key learns nothing of projects beyond its reach."""
    ids = [row.id for row in rows if row.project_id is None and not row.is_global]
    found: dict[str, list[str]] = {row_id: [] for row_id in ids}
    if ids:
        orgs = {row.id: row.org_id for row in rows}
        query = (IntegrationProject.select(IntegrationProject.integration, Project.id, Project.handle,
                                           IntegrationProject.integrity)
                 .join(Project, on=(IntegrationProject.project == Project.id))
                 .where(IntegrationProject.integration.in_(ids)).order_by(Project.handle).tuples())
        keyring = principal.signer
        for integration_id, project_id, handle, stored in query:
            if keyring is not None and not integrity.link_verifies(
                    keyring, orgs[integration_id], integration_id, project_id, stored):
                integrity.require_links(keyring, [r for r in rows if r.id == integration_id])
            if principal.reaches(project_id):
                found[integration_id].append(handle)
    return found


def visible(principal: Principal):
    """The org-wide integrations a key sees: all of them, or those applying to a project it reaches."""
    query = Integration.select().where((Integration.org == principal.org_id)
                                       & Integration.project.is_null())
    if principal.project_ids is not None:
        shared = IntegrationProject.select(IntegrationProject.integration).where(
            IntegrationProject.project.in_(sorted(principal.project_ids)))
        query = query.where(Integration.is_global | Integration.id.in_(shared))
    return query


def _scope(principal: Principal, data: dict) -> tuple[bool, list[Project]]:
    """(is_global, the named projects) from a request, checked: exactly one of the two, every
    project found, and within what the key reaches."""
    is_global = bool(data.get("is_global"))
    refs = data.get("projects")
    if is_global == (refs is not None):
        raise InvalidInput("Give exactly one of \"is_global\": true (every project of the org) or "
                           "\"projects\": [handles] (only those).",
                           errors={"is_global": ["Exactly one of is_global and projects."],
                                   "projects": ["Exactly one of is_global and projects."]})
    if is_global:
        if principal.project_ids is not None:
            raise Forbidden("This key reaches only some projects, so it cannot share an integration "
                            "with every project of the org; name the projects instead.")
        return True, []
    if not refs:
        raise invalid_field("projects", "Name at least one project (or set is_global).")
    projects = []
    for index, ref in enumerate(refs):
        try:
            projects.append(find_project(principal, ref))
        except NotFound:
            raise invalid_field(f"projects.{index}", f"No project '{ref}' that this key can see.") from None
    return False, sorted({p.id: p for p in projects}.values(), key=lambda p: p.handle)


def _share(keyring, row: Integration, projects: list[Project]) -> None:
    integrity.share(keyring, row, [p.id for p in projects])


def _require_reach(principal: Principal, row: Integration) -> None:
    """A key may change an org-wide integration only if it reaches every project it applies to."""
    if principal.project_ids is None:
        return
    if row.is_global:
        raise Forbidden("This key reaches only some projects, so it cannot change an integration "
                        "shared with every project of the org.")
    named = {pid for (pid,) in IntegrationProject.select(IntegrationProject.project)
             .where(IntegrationProject.integration == row.id).tuples()}
    if not named <= principal.project_ids:
        raise Forbidden("This integration is shared with projects this key does not reach, so the "
                        "key cannot change it.")


def _name_taken(provider: str, name: str) -> Conflict:
    return Conflict(f"An org-wide '{provider}' integration named '{name}' already exists in this "
                    "org; choose another name.", errors={"name": ["Already taken for this provider."]})


def find(principal: Principal, integration_id: str, *, for_update: bool = False) -> Integration:
    query = visible(principal).where(Integration.id == integration_id)
    if for_update and not isinstance(database.obj, peewee.SqliteDatabase):
        query = query.for_update(of=Integration)
    row = query.first()
    if row is None:
        raise NotFound(f"No org-wide integration '{integration_id}' that this key can see.")
    return row


def create(services: Services, principal: Principal, data: dict, *, verify: bool = False) -> Integration:
    principal.require(perms.INTEGRATIONS_WRITE)
    is_global, projects = _scope(principal, data)
    row, credentials = new_row(services, principal, data, org_id=principal.org_id, project_id=None,
                               verify=verify)
    row.is_global = is_global

    def share_and_record():
        _share(services.keyring, row, projects)
        record(principal, "integration.create", row, None,
               {"provider": row.provider, "name": row.name, "auth_type": row.auth_type,
                "is_global": is_global, "projects": [p.handle for p in projects], "verified": verify})

    insert(services.keyring, row, credentials, _name_taken(row.provider, row.name), share_and_record)
    return row


def get(principal: Principal, integration_id: str) -> Integration:
    principal.require(perms.INTEGRATIONS_READ)
    row = find(principal, integration_id)
    if principal.signer is not None:  # the keyring
        integrity.require(principal.signer, row)
    return row


def list_query(principal: Principal, *, provider: str | None = None):
    principal.require(perms.INTEGRATIONS_READ)
    query = visible(principal)
    if provider:
        query = query.where(Integration.provider == provider)
    return integrity.checked(query, principal.signer)


def update(services: Services, principal: Principal, integration_id: str, changes: dict) -> Integration:
    """PUT: as for a project's integration; `is_global` or `projects` (exactly one) replaces the
    scope."""
    principal.require(perms.INTEGRATIONS_WRITE)
    changes = dict(changes)
    scope = {k: changes.pop(k) for k in ("is_global", "projects") if k in changes}
    with database.atomic():
        row = find(principal, integration_id, for_update=True)
        integrity.require(services.keyring, row)  # never re-MAC fields someone else wrote
        integrity.require_links(services.keyring, [row])
        _require_reach(principal, row)
        if scope:
            row.is_global, projects = _scope(principal, scope)
            _share(services.keyring, row, projects)
        apply_changes(services, row, changes)
        integrity.stamp(services.keyring, row)
        with atomic_or(_name_taken(row.provider, changes.get("name", ""))):
            row.save()
            if "tags" in changes:
                replace_tags(row)
        record(principal, "integration.update", row, None, {"fields": sorted([*changes, *scope])})
    return row


def delete(principal: Principal, integration_id: str) -> None:
    """The record goes from every project that used it, and its ciphertext with it."""
    principal.require(perms.INTEGRATIONS_WRITE)
    with database.atomic():
        row = find(principal, integration_id, for_update=True)
        _require_reach(principal, row)
        Integration.delete().where(Integration.id == row.id).execute()
        record(principal, "integration.delete", row, None, {"provider": row.provider, "name": row.name})


def verify(services: Services, principal: Principal, integration_id: str,
           proposal: dict | None = None) -> dict:
    """Check an org-wide integration's stored credentials (or a proposal over them), as
    `hub.verification.record.verify_stored` does for a project's."""
    principal.require(perms.INTEGRATIONS_VERIFY)
    return verify_row(services, principal, find(principal, integration_id), None, proposal)
