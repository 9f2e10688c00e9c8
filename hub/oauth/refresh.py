"""Refreshing OAuth access tokens: one refresh per integration at a time, across every process.

A reader finds the stored access token due (it expires within `min_valid` seconds) and asks for a
refresh. The refresh runs in a transaction that first locks the integration's row (PostgreSQL:
`SELECT ... FOR UPDATE`; SQLite: the transaction begins IMMEDIATE and holds the write lock), then
reads the row again: if another process refreshed it while this one waited (the access token is
no longer the one found due), there is nothing to do and the new token is used. Only otherwise is
the refresh grant sent, while holding the lock, so that every concurrent reader waits for it and
a rotating refresh token is spent exactly once; the egress timeout bounds the wait. The new access
token and the rotated refresh token are sealed and stored, with the `integration.refresh` event,
in that same transaction.

The lock transaction takes the row lock before the audit chain's head lock, like every other
writer of an integration (PUT, DELETE), and the reader's own audited read starts only after it
committed: no two transactions wait for each other's locks.

A refusal that spends the grant (`invalid_grant`, a revoked refresh token, a deleted app) marks
the integration expired (`expired_reason` "refresh_refused") and the door answers 409 "Credentials
expired"; a failure that may pass (unreachable, a server error) changes nothing and answers 503.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
from typing import Callable, Iterable

from hub.audit import log as audit
from hub.egress import EgressError
from hub.errors import Conflict, HubError, NotFound, Unavailable, invalid_field
from hub.integrations import store
from hub.integrations.door import refuse_unless_active
from hub.integrations.records import effective_status, find_in_project, open_credentials
from hub.oauth import apps, tokens
from hub.sdk import AuthMethod, OAuthToken, TokenRefusal
from hub.services import Services
from hub.storage.database import is_sqlite
from hub.storage.models import Integration, OAuthApp, Project, database, utcnow
from hub.tenancy import Principal, find_project
from hub.tenancy import permissions as perms
from hub.timestamps import parse_iso

logger = logging.getLogger(__name__)

DEFAULT_MIN_VALID = 60
MAX_MIN_VALID = 3600
REFUSED = "refresh_refused"  # expired_reason of an integration whose refresh was refused


def oauth_method_of(services: Services, row: Integration) -> AuthMethod | None:
    """The row's auth method when it is an OAuth one (of a loaded provider), else None."""
    provider = services.providers.get(row.provider)
    method = provider.auth_method(row.auth_type) if provider is not None else None
    return method if method is not None and method.oauth is not None else None


def is_due(credentials: dict, min_valid: float, now: datetime.datetime | None = None) -> bool:
    """Whether the access token expires within `min_valid` seconds (one without an expiry never
    does)."""
    try:
        expires_at = parse_iso(credentials.get("expires_at"))
    except (TypeError, ValueError):
        return True  # an unreadable expiry: refresh rather than hand out a token that may be dead
    if expires_at is None:
        return False
    return expires_at - (now or utcnow()) < datetime.timedelta(seconds=min_valid)


def expired_conflict(row: Integration, reason: str | None = None) -> Conflict:
    return Conflict(f"The provider refused to refresh the tokens of integration '{row.name}' "
                    f"({row.id}){f' ({reason})' if reason else ''}: the connection was revoked or "
                    "its refresh token is spent. Connect it again with POST "
                    ".../integrations:connect (same provider and name).",
                    title="Credentials expired")


@dataclasses.dataclass
class Outcome:
    row: Integration
    refreshed: bool = False
    error: HubError | None = None


def ensure_fresh(services: Services, principal: Principal, row: Integration,
                 project: Project | None, *, min_valid: float = DEFAULT_MIN_VALID,
                 force: bool = False) -> Outcome:
    """Make the row's access token valid for `min_valid` seconds, refreshing it if it is not
    (with `force`, whatever its expiry). Not for rows that are not OAuth ones (returned as they
    are). The outcome's `error` says why no fresh token can be had."""
    method = oauth_method_of(services, row)
    if method is None:
        return Outcome(row)
    seen = open_credentials(services.keyring, row)
    if not force and not is_due(seen, min_valid):
        return Outcome(row)
    with database.atomic():
        outcome = _refresh_locked(services, principal, method, row.id, project,
                                  seen.get("access_token"), min_valid=min_valid, force=force)
    return outcome


def fresh_or_raise(services: Services, principal: Principal, row: Integration,
                   project: Project | None, *, min_valid: float = DEFAULT_MIN_VALID,
                   force: bool = False) -> Integration:
    """`ensure_fresh`, raising its error (409 Credentials expired, 503)."""
    outcome = ensure_fresh(services, principal, row, project, min_valid=min_valid, force=force)
    if outcome.error is not None:
        raise outcome.error
    return outcome.row


def before_check(services: Services, principal: Principal, row: Integration,
                 project: Project | None) -> Integration:
    """For a check of stored credentials: the row with a fresh access token when one can be had;
    otherwise as it is now, and the check reports what the provider says of the old token."""
    return ensure_fresh(services, principal, row, project).row


def _locked(integration_id: str) -> Integration | None:
    query = Integration.select().where(Integration.id == integration_id)
    if not is_sqlite(database.obj):  # SQLite: BEGIN IMMEDIATE already holds the write lock
        query = query.for_update()
    return query.first()


def _refresh_locked(services: Services, principal: Principal, method: AuthMethod,
                    integration_id: str, project: Project | None, seen_token: str | None, *,
                    min_valid: float, force: bool) -> Outcome:
    row = _locked(integration_id)
    if row is None:
        raise NotFound(f"No integration '{integration_id}'.")
    if effective_status(row) != "active":
        return Outcome(row)  # the door refuses it as it is (inactive, expired)
    current = open_credentials(services.keyring, row)
    if current.get("access_token") != seen_token:
        # Another reader refreshed it while this one waited for the lock: that token is the
        # freshest the provider gives (it may live less than min_valid: tokens that short are
        # not refreshed again and again).
        return Outcome(row)
    if not force and not is_due(current, min_valid):
        return Outcome(row)

    if not current.get("refresh_token") and not is_due(current, 0):
        # Nothing to refresh with, and the token still works: it is served as it is (a forced
        # refresh says so); only once it has expired is the integration expired.
        if force:
            return Outcome(row, error=Conflict(
                f"The provider issued no refresh token for integration '{row.name}': there is "
                "nothing to refresh with until its access token expires; connect it again for "
                "new tokens.", title="Nothing to refresh"))
        return Outcome(row)

    def event(outcome: str, details: dict) -> None:
        audit.record(principal, "integration.refresh", target_type="integration",
                     target_id=row.id, project=project, outcome=outcome,
                     details={"provider": row.provider, "name": row.name} | details)

    answer = _refresh_grant(services, method, row, current)
    if isinstance(answer, EgressError):
        event("failed", {"reason": answer.code})
        return Outcome(row, error=Unavailable(
            f"The tokens of integration '{row.name}' need refreshing and the provider could not "
            f"be reached: {answer.message} Try again.", title="Refresh failed"))
    if isinstance(answer, TokenRefusal):
        if answer.client_refused:
            event("failed", {"reason": answer.error})
            return Outcome(row, error=Unavailable(
                f"The tokens of integration '{row.name}' need refreshing and the provider refused "
                f"the OAuth app's client credentials ({answer.error}): check the app's client_id "
                f"and send its current client_secret (PUT /v1/oauth-apps/"
                f"{current.get('oauth_app_id')}). The integration's tokens are kept.",
                title="Refresh failed"))
        if not answer.spent:
            event("failed", {"reason": answer.error})
            return Outcome(row, error=Unavailable(
                f"The tokens of integration '{row.name}' need refreshing and the provider failed "
                f"({answer.error}). Try again later.", title="Refresh failed"))
        row.expired_reason = REFUSED
        Integration.update(expired_reason=REFUSED).where(Integration.id == row.id).execute()
        event("failed", {"reason": answer.error, "expired": True})
        return Outcome(row, error=expired_conflict(row, answer.error))
    credentials = tokens.credentials_of(answer, oauth_app_id=current.get("oauth_app_id"),
                                        previous=current)
    store.replace_credentials(services.keyring, row, credentials)
    event("success", {"expires_at": credentials.get("expires_at"),
                      "rotated": bool(answer.refresh_token)
                      and answer.refresh_token != current.get("refresh_token")})
    return Outcome(row, refreshed=True)


def _refresh_grant(services: Services, method: AuthMethod, row: Integration,
                   current: dict) -> OAuthToken | TokenRefusal | EgressError:
    refresh_token = current.get("refresh_token")
    if not refresh_token:
        return TokenRefusal("no_refresh_token", "The provider issued no refresh token.")
    app = OAuthApp.get_or_none((OAuthApp.id == current.get("oauth_app_id"))
                               & (OAuthApp.org == row.org_id))
    if app is None:
        return TokenRefusal("app_deleted", "The OAuth app that connected it was deleted.")
    if app.provider != row.provider:
        # Pasted credentials may name any app of the org: its secret goes only to its own
        # provider's token endpoint, in its own provider's manner.
        return TokenRefusal("app_mismatch", f"The OAuth app it names is for '{app.provider}'.")
    try:
        return tokens.refresh(method.oauth, apps.endpoints(services.keyring, app, method.oauth),
                              services.http_client(), refresh_token=refresh_token)
    except EgressError as exc:
        return exc


@dataclasses.dataclass(frozen=True)
class BulkOutcome:
    integration: Integration
    project_handle: str | None
    refreshed: bool
    error: str | None  # the message when it failed


def due_rows(services: Services, project_ids: Iterable[str] | None, within: float):
    """The active OAuth integrations (of those projects; None: all) whose token is due within
    `within` seconds. Each row's credentials are opened to read the expiry (it is sealed)."""
    pairs = [(name, method.id) for name in services.providers.names()
             for method in services.providers.get(name).auth_methods if method.oauth is not None]
    if not pairs:
        return []
    condition = None
    for provider, auth_type in pairs:
        clause = (Integration.provider == provider) & (Integration.auth_type == auth_type)
        condition = clause if condition is None else condition | clause
    query = Integration.select().where(condition & (Integration.status == "active")
                                       & Integration.expired_reason.is_null())
    if project_ids is not None:
        query = query.where(Integration.project.in_(list(project_ids)))
    return [row for row in query.order_by(Integration.id) if _due(services, row, within)]


def _due(services: Services, row: Integration, within: float) -> bool:
    try:
        return is_due(open_credentials(services.keyring, row), within)
    except HubError:  # a row that does not open: listed, and its refresh reports why (the
        return True   # others are refreshed all the same)


def refresh_due(services: Services, principal_of_org: Callable[[str], Principal],
                project_ids: Iterable[str] | None, within: float,
                progress: Callable[[int, int, BulkOutcome], None] | None = None,
                ) -> list[BulkOutcome]:
    """Refresh every OAuth integration due within `within` seconds (`hub integrations refresh`).

    :param principal_of_org: the actor of each org's events (the CLI's operator).
    """
    rows = due_rows(services, project_ids, within)
    handles = {p.id: p for p in Project.select().where(
        Project.id.in_([r.project_id for r in rows if r.project_id]))} if rows else {}
    outcomes = []
    for index, row in enumerate(rows, 1):
        project = handles.get(row.project_id)
        try:
            outcome = ensure_fresh(services, principal_of_org(row.org_id), row, project,
                                   min_valid=within)
            error = outcome.error.detail if outcome.error else None
            done = BulkOutcome(row, project.handle if project else None, outcome.refreshed, error)
        except HubError as exc:
            done = BulkOutcome(row, project.handle if project else None, False, exc.detail)
        outcomes.append(done)
        if progress is not None:
            progress(index, len(rows), done)
    return outcomes


def refresh_one(services: Services, principal: Principal, project_ref: str,
                integration_id: str) -> tuple[Project, Integration]:
    """`POST .../integrations/{id}:refresh` (integrations:write): a refresh now, whatever the
    token's expiry (unless another one has just replaced it)."""
    principal.require(perms.INTEGRATIONS_WRITE)
    project = find_project(principal, project_ref)
    row = find_in_project(project, integration_id)
    if oauth_method_of(services, row) is None:
        raise invalid_field("auth_type", f"Integration '{row.name}' is not connected by OAuth "
                                         f"(auth_type '{row.auth_type}'): it has no tokens to "
                                         "refresh.")
    refuse_unless_active(row)
    row = fresh_or_raise(services, principal, row, project, force=True)
    return project, find_in_project(project, row.id)
