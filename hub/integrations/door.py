"""The credential door: the one place decrypted integration credentials leave the hub.

Project-scoped integrations are read by project (`read_one`, `read_page`); the org-wide ones
that apply to a project by `read_shared`. Every read is on record before the credentials are handed out: the event (`integration.credentials
.read`, naming the key) is written in the read's transaction, and a read whose event cannot be
written is refused (503). A key without `credentials:read` is refused (403) and that refusal is on
record too (outcome `denied`). Only integrations whose status is `active` are served: an inactive
one is refused with a 409 saying how to enable it, an expired one with a 409 saying to store new
credentials.

An OAuth integration's access token is made fresh before it is served: the API hands the door a
`refresh(principal, row, project)` (hub.oauth.refresh) that refreshes a token expiring within the
reader's `min_valid` seconds, under the integration's lock and in a transaction of its own that
commits before the audited read begins. A `refresh` may say which rows it applies to
(`refresh.applies(row)`: the OAuth ones); any other row is read once, in the audited transaction.
"""
from __future__ import annotations

from typing import Any, Callable

from hub.audit import log as audit
from hub.errors import Conflict
from hub.integrations.integrity import require_links
from hub.integrations.records import (
    active_condition,
    applies_to,
    effective_status,
    find_in_project,
    open_credentials,
)
from hub.storage.models import Integration, Project, database
from hub.storage.pagination import DEFAULT_LIMIT, Page, paginate
from hub.tenancy import UUID_RE, Principal, find_project
from hub.tenancy import permissions as perms

ACTION = "integration.credentials.read"
REFRESH_REFUSED = "refresh_refused"  # expired_reason set by hub.oauth.refresh

Refresh = Callable[[Principal, Integration, Project | None], Any]


def _served(keyring, principal: Principal, row: Integration, project: Project | None) -> dict[str, Any]:
    credentials = open_credentials(keyring, row)
    audit.record(principal, ACTION, target_type="integration", target_id=row.id, project=project,
                 details={"provider": row.provider, "name": row.name, "fields": sorted(credentials)})
    return {"integration_id": row.id, "provider": row.provider, "auth_type": row.auth_type,
            "credentials": credentials}


def refuse_unless_active(row: Integration) -> None:
    status = effective_status(row)
    if status == "inactive":
        raise Conflict(f"Integration '{row.name}' ({row.id}) is inactive, so its credentials are not "
                       "served. Enable it with PUT {\"status\": \"active\"} first.",
                       title="Integration inactive")
    if status == "expired" and row.expired_reason == REFRESH_REFUSED:
        raise Conflict(f"The provider refused to refresh the tokens of integration '{row.name}' "
                       f"({row.id}): the connection was revoked or its refresh token is spent. "
                       "Connect it again (POST .../integrations:connect with the same provider "
                       "and name).", title="Credentials expired")
    if status == "expired":
        reason = row.expired_reason or "expired"
        raise Conflict(f"The credentials of integration '{row.name}' ({row.id}) are {reason}. Store "
                       "new credentials with PUT, then read them again.", title="Credentials expired")


def read_one(keyring, principal: Principal, project_ref: str, integration_id: str, *,
             refresh: Refresh | None = None) -> dict[str, Any]:
    """One integration's decrypted credentials (credentials:read), audited; with `refresh`, an
    OAuth token that is due is refreshed first."""
    project = find_project(principal, project_ref)
    # The id as the caller sent it goes on record only if it can be one (a path can hold anything).
    target = integration_id if UUID_RE.fullmatch(integration_id) else None
    audit.require(principal, perms.CREDENTIALS_READ, ACTION, project=project,
                  target_type="integration", target_id=target)
    with database.atomic():
        row = find_in_project(project, integration_id)
        refuse_unless_active(row)
        if refresh is None or not _may_refresh(refresh, row):  # one read, audited, committed
            return _served(keyring, principal, row, project)
    # A row whose token may need refreshing: that runs in a transaction of its own, committed
    # before the audited read (which reads the row again, as the refresh left it).
    refresh(principal, row, project)
    with database.atomic():
        row = find_in_project(project, integration_id)
        refuse_unless_active(row)
        return _served(keyring, principal, row, project)


def _may_refresh(refresh: Refresh, row: Integration) -> bool:
    """Whether `refresh` could do anything for the row (a refresh that says which rows it applies
    to, `refresh.applies(row)`, spares the others a second read; one that does not: any row)."""
    applies = getattr(refresh, "applies", None)
    return applies is None or bool(applies(row))


def read_page(keyring, principal: Principal, project_ref: str, *, provider: str | None = None,
              limit: int = DEFAULT_LIMIT, cursor: str | None = None,
              refresh: Refresh | None = None) -> Page:
    """The decrypted credentials of every active integration of the project, a page at a time,
    each read audited (credentials:read)."""
    return _read_many(keyring, principal, project_ref, lambda project: Integration.project == project.id,
                      provider=provider, limit=limit, cursor=cursor, refresh=refresh)


def read_shared(keyring, principal: Principal, project_ref: str, *, provider: str | None = None,
                limit: int = DEFAULT_LIMIT, cursor: str | None = None,
                refresh: Refresh | None = None) -> Page:
    """The decrypted credentials of the active org-wide integrations that apply to a project,
    paged, each read audited (credentials:read)."""
    return _read_many(keyring, principal, project_ref, applies_to, provider=provider, limit=limit,
                      cursor=cursor, refresh=refresh)


def _read_many(keyring, principal: Principal, project_ref: str, scope, *, provider: str | None,
               limit: int, cursor: str | None, refresh: Refresh | None = None) -> Page:
    """A page of the active integrations `scope(project)` selects, served and audited together."""
    project = find_project(principal, project_ref)
    audit.require(principal, perms.CREDENTIALS_READ, ACTION, project=project,
                  target_type="project", target_id=project.id)
    query = Integration.select().where(scope(project) & active_condition())
    if provider:
        query = query.where(Integration.provider == provider)
    if refresh is not None:  # before the page's transaction: each refresh commits on its own
        for row in paginate(query, Integration.id, limit=limit, cursor=cursor).items:
            try:
                refresh(principal, row, project)
            except Conflict:
                pass  # refused: it reads expired now, and the page below leaves it out
    with database.atomic():
        page = paginate(query, Integration.id, limit=limit, cursor=cursor)
        require_links(keyring, page.items, project.id)  # org-wide ones: shared by the hub itself
        page.items = [_served(keyring, principal, row, project) for row in page.items]
    return page
