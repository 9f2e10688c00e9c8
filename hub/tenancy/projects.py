"""Orgs and projects: creating, finding by handle or id (within what a key reaches), deleting."""
from __future__ import annotations

import re

from peewee import fn

from hub.audit import log as audit
from hub.errors import Conflict, Forbidden, NotFound, invalid_field
from hub.storage.conflicts import atomic_or
from hub.storage.models import Integration, IntegrationProject, Org, Project, database
from hub.storage.prepared import Prepared, slot
from hub.storage.storable_text import unstorable
from hub.tenancy import permissions as perms
from hub.tenancy.principal import Principal

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _check_handle(field: str, value: str) -> None:
    if not isinstance(value, str) or not HANDLE_RE.fullmatch(value):
        raise invalid_field(field, "Must be 2-63 characters: lowercase letters, digits and '-', "
                                   "starting with a letter or digit.")
    if UUID_RE.fullmatch(value):  # wherever a project is named, a UUID means its id
        raise invalid_field(field, "Must not have the shape of a UUID (those name projects by id).")


def create_org(name: str) -> Org:
    _check_handle("org", name)
    with atomic_or(Conflict(f"An org named '{name}' already exists.")):
        return Org.create(name=name)


def create_project(principal: Principal, handle: str, display_name: str | None = None) -> Project:
    principal.require(perms.PROJECTS_ADMIN)
    if principal.project_ids is not None:
        raise Forbidden("This API key is limited to some projects, so it cannot create projects. "
                        "Use a key that reaches every project of the org.")
    _check_handle("handle", handle)
    taken = Conflict(f"The project handle '{handle}' is taken; choose another.",
                     errors={"handle": ["Already taken."]})
    with atomic_or(taken):
        project = Project.create(org=principal.org_id, handle=handle, display_name=display_name)
        audit.record(principal, "project.create", target_type="project", target_id=project.id,
                     project=project)
    return project


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
    by_id = bool(UUID_RE.fullmatch(ref))
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
    return Project.get_or_none((Project.id if UUID_RE.fullmatch(ref) else Project.handle) == ref)


def list_projects(principal: Principal):
    return _project_query(principal)


def delete_project(principal: Principal, ref: str) -> None:
    principal.require(perms.PROJECTS_ADMIN)
    project = find_project(principal, ref)
    # Foreign keys cascade to the project's integrations and secrets (and their ciphertexts).
    with database.atomic():
        _delete_org_wide_left_nowhere(principal, project)
        Project.delete().where(Project.id == project.id).execute()
        audit.record(principal, "project.delete", target_type="project", target_id=project.id,
                     project=project)


def _delete_org_wide_left_nowhere(principal: Principal, project: Project) -> None:
    """Org-wide integrations shared with this project alone would be left shared with none: they
    go with it (each on record), rather than linger with `projects: []`."""
    shared_here = IntegrationProject.select(IntegrationProject.integration).where(
        IntegrationProject.project == project.id)
    alone = (IntegrationProject.select(IntegrationProject.integration)
             .where(IntegrationProject.integration.in_(shared_here))
             .group_by(IntegrationProject.integration)
             .having(fn.COUNT(IntegrationProject.project) == 1))
    for row in Integration.select().where(Integration.id.in_(alone)):
        Integration.delete().where(Integration.id == row.id).execute()
        audit.record(principal, "integration.delete", target_type="integration", target_id=row.id,
                     details={"provider": row.provider, "name": row.name,
                              "reason": f"its only project, {project.handle}, was deleted"})


def project_handles(project_ids) -> list[str]:
    if project_ids is None:
        return None
    return sorted(p.handle for p in Project.select(Project.handle).where(Project.id.in_(list(project_ids))))
