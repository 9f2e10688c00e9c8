"""Connecting an integration by consent: `start` makes the authorization URL and a pending
connection; `finish` (the callback) exchanges the code and stores the integration.

The state is the capability of the callback (which carries no API key), so it is at least 128
random bits, single-use and short-lived: only its SHA-256 is stored (a database reader cannot
finish someone's connection), the PKCE verifier is sealed, and the callback consumes the pending
row with a DELETE that must remove exactly one row, so two callbacks with one state cannot both
go on: the database settles it. A used, expired or unknown state, or a refused consent, creates
nothing.
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging

from hub.audit import log as audit
from hub.crypto import DecryptionFailed
from hub.egress import EgressError
from hub.errors import Conflict, HubError, invalid_field
from hub.integrations import integrity, store
from hub.integrations.validation import NAME_RE, validate_against
from hub.oauth import apps, tokens
from hub.sdk import TokenRefusal
from hub.services import Services
from hub.storage.database import is_sqlite
from hub.storage.models import ApiKey, Integration, OAuthPending, Project, database, new_id, utcnow
from hub.tenancy import Principal, find_project
from hub.tenancy import permissions as perms
from hub.tenancy.api_keys import principal_of
from hub.verification.record import apply_result, run_for

logger = logging.getLogger(__name__)

PENDING_LIFETIME = datetime.timedelta(minutes=10)
CALLBACK_PATH = "/v1/oauth/callback"


def redirect_uri(public_url: str) -> str:
    return public_url.rstrip("/") + CALLBACK_PATH


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def start(services: Services, principal: Principal, project_ref: str, data: dict, *,
          public_url: str) -> dict:
    """A pending connection and the URL to consent at: `{authorize_url, state, expires_at}`."""
    principal.require(perms.INTEGRATIONS_WRITE)
    project = find_project(principal, project_ref)
    provider, method = apps.oauth_provider(services.providers, data["provider"])
    name = data["name"]
    if not NAME_RE.fullmatch(name):
        raise invalid_field("name", "Use 1-100 letters, digits, '_' or '-'.")
    app = apps.find(principal, data["oauth_app"], provider=provider.name)
    if app.provider != provider.name:
        raise invalid_field("oauth_app", f"OAuth app '{app.name}' is for '{app.provider}', not "
                                         f"'{provider.name}'.")
    # Said now rather than after the person has consented; the insert at the callback is still
    # settled by the unique index. An OAuth integration of that name is connected again (new
    # tokens, as its door's "Credentials expired" says to do); any other is in the way.
    existing = _named(project.id, provider.name, name)
    if existing is not None and existing.auth_type != method.id:
        raise store._name_taken(provider.name, name)
    return_to = data.get("return_to")
    if return_to is not None and apps.origin_of(return_to) is None:
        raise invalid_field("return_to", "Give an http(s) URL to send the person back to.")
    scopes = tuple(apps._scopes(data.get("scopes")) or app.scopes or method.oauth.default_scopes)

    state, verifier = tokens.new_state(), tokens.new_verifier()
    now = utcnow()
    pending = OAuthPending(state_hash=state_hash(state), org=project.org_id, project=project.id,
                           oauth_app=app.id, provider=provider.name, name=name,
                           scopes=list(scopes), return_to=return_to, created_by=principal.key_id,
                           created_at=now, expires_at=now + PENDING_LIFETIME)
    sealed = services.keyring.seal(verifier.encode("ascii"), pending.sealed_aad())
    pending.verifier_key_id, pending.verifier_ciphertext = sealed.key_id, sealed.ciphertext
    url = tokens.authorize_url(method.oauth, apps.endpoints(services.keyring, app, method.oauth),
                               redirect_uri=redirect_uri(public_url), state=state,
                               verifier=verifier, scopes=scopes)
    with database.atomic():
        OAuthPending.delete().where(OAuthPending.expires_at <= now).execute()  # the stale ones
        pending.save(force_insert=True)
    return {"authorize_url": url, "state": state, "expires_at": pending.expires_at}


@dataclasses.dataclass(frozen=True)
class Finished:
    """What the callback did: the integration made, and where to send the person (or None: show a
    page)."""

    integration_id: str
    name: str
    provider: str
    project: str
    redirect_to: str | None
    verified: bool


class CallbackRefused(HubError):
    """The callback created nothing; `reason` is shown on the page (no secret in it)."""

    title = "Connection failed"

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def finish(services: Services, *, state: str | None, code: str | None, error: str | None,
           public_url: str, request_id: str | None = None,
           client_ip: str | None = None) -> Finished:
    """The callback: consume the pending connection, exchange the code, store and check the
    integration, audit `integration.connect`.

    :raises CallbackRefused: nothing was created (a `denied` or `failed` event says why, when the
        state was known).
    """
    if not state:
        raise CallbackRefused("The callback carries no state: start the connection again.")
    pending = _consume(state)
    if pending is None:
        # No org to put an event in: the state was never issued, or its row is gone.
        logger.warning("OAuth callback with an unknown, used or expired state (request %s)",
                       request_id)
        raise CallbackRefused("This connection link is unknown or was already used: start the "
                              "connection again.")
    principal = _starter(services, pending, request_id, client_ip)
    project = Project.get_or_none(Project.id == pending.project_id)

    def refuse(outcome: str, reason: str, details: dict, status: int = 400):
        if principal is not None:
            audit.record(principal, "integration.connect", target_type="integration",
                         project=project, outcome=outcome,
                         details={"provider": pending.provider, "name": pending.name} | details)
        raise CallbackRefused(reason, status)

    if pending.expires_at <= utcnow():
        refuse("failed", "This connection link expired (they last 10 minutes): start the "
                         "connection again.", {"reason": "expired"})
    if principal is None or project is None:
        raise CallbackRefused("The API key that started this connection, or its project, is gone.")
    if perms.INTEGRATIONS_WRITE not in principal.permissions or not principal.reaches(project.id):
        refuse("denied", "The API key that started this connection may no longer write "
                         "integrations in this project.", {"reason": "forbidden"}, status=403)
    if error:
        safe = error if error.replace("_", "").isalnum() and len(error) <= 64 else "error"
        outcome = "denied" if safe == "access_denied" else "failed"
        refuse(outcome, "The connection was not approved at the provider, so nothing was "
                        f"connected ({safe}).", {"reason": safe})
    if not code:
        refuse("failed", "The provider sent no authorization code: start the connection again.",
               {"reason": "no_code"})

    provider, method = apps.oauth_provider(services.providers, pending.provider)
    app = apps.OAuthApp.get_or_none(apps.OAuthApp.id == pending.oauth_app_id)
    if app is None:
        refuse("failed", "The OAuth app of this connection was deleted.", {"reason": "app_deleted"})
    endpoints = apps.endpoints(services.keyring, app, method.oauth)
    try:
        verifier = services.keyring.open_sealed(
            pending.verifier_key_id, pending.verifier_ciphertext,
            pending.sealed_aad()).decode("ascii")
    except DecryptionFailed:
        refuse("failed", "The pending connection does not open: start again.",
               {"reason": "corrupted"})
    http = services.http_client()
    try:
        token = tokens.exchange_code(method.oauth, endpoints, http, code=code,
                                     redirect_uri=redirect_uri(public_url), verifier=verifier)
        extras = {}
        if isinstance(token, tokens.OAuthToken) and method.oauth.after_exchange is not None:
            extras = method.oauth.after_exchange(token, endpoints.api_base_url, http)
    except EgressError as exc:
        refuse("failed", f"The provider could not be reached: {exc.message}",
               {"reason": exc.code}, status=502)
    except Exception as exc:  # a plugin's after_exchange that failed: its text may quote a token
        logger.error("the OAuth exchange of provider %r raised %s", provider.name,
                     type(exc).__qualname__)
        refuse("failed", "The provider's answer could not be read; nothing was connected.",
               {"reason": "provider_error"}, status=502)
    if isinstance(token, TokenRefusal) or isinstance(extras, TokenRefusal):
        refusal = token if isinstance(token, TokenRefusal) else extras
        # One that spends nothing is the provider failing (a 5xx, an odd answer), not a refusal;
        # refused client credentials are a refusal (400), of the app rather than the code.
        refuse("failed", f"{refusal.message} Nothing was connected.", {"reason": refusal.error},
               status=400 if refusal.spent or refusal.client_refused else 502)

    credentials = tokens.credentials_of(token, oauth_app_id=app.id) | dict(extras)
    credentials = validate_against(method.credentials_schema, credentials, "credentials")
    config = {}
    if method.oauth.config_base_url and app.api_base_url:
        config[method.oauth.config_base_url] = app.api_base_url
    config = validate_against(provider.config_schema, config, "config")
    result = run_for(services, provider, method.id, credentials, config, org_id=project.org_id)
    details = {"provider": provider.name, "name": pending.name, "auth_type": method.id,
               "oauth_app_id": app.id, "scopes": credentials.get("scopes"),
               "verified": result["ok"]}
    if _named(project.id, provider.name, pending.name) is not None:
        row = _reconnect(services, principal, project, pending, method.id, credentials, config,
                         result, details)
        return _finished(pending, app, row, project, result)
    row = Integration(id=new_id(), org=pending.org_id, project=project.id, name=pending.name,
                      provider=provider.name, auth_type=method.id, config=config, tags=[],
                      status="active")
    apply_result(row, result)
    row.expires_at = None  # the access token's expiry is refreshed away, not the integration's
    store.insert(services.keyring, row, credentials, Conflict(
        f"A '{provider.name}' integration named '{row.name}' was created in the meantime; "
        "nothing was connected."),
        lambda: store.record(principal, "integration.connect", row, project, details))
    return _finished(pending, app, row, project, result)


def _finished(pending: OAuthPending, app, row: Integration, project: Project,
              result: dict) -> Finished:
    redirect_to = None
    if pending.return_to and apps.origin_of(pending.return_to) in (app.redirect_origins or []):
        # Into the query, before any fragment (a '?' after the '#' would be the fragment's).
        url, hash_mark, fragment = pending.return_to.partition("#")
        separator = "&" if "?" in url else "?"
        redirect_to = f"{url}{separator}integration_id={row.id}{hash_mark}{fragment}"
    return Finished(integration_id=row.id, name=row.name, provider=row.provider,
                    project=project.handle, redirect_to=redirect_to, verified=result["ok"])


def _named(project_id: str, provider: str, name: str, *, for_update: bool = False):
    query = Integration.select().where((Integration.project == project_id)
                                       & (Integration.provider == provider)
                                       & (Integration.name == name))
    if for_update and not is_sqlite(database.obj):  # SQLite: BEGIN IMMEDIATE holds the lock
        query = query.for_update()
    return query.first()


def _reconnect(services: Services, principal: Principal, project: Project, pending: OAuthPending,
               auth_type: str, credentials: dict, config: dict, result: dict,
               details: dict) -> Integration:
    """New tokens for an existing integration of that name (an expired connection, new scopes);
    one that is not an OAuth integration is left alone."""
    with database.atomic():
        row = _named(project.id, pending.provider, pending.name, for_update=True)
        if row is None or row.auth_type != auth_type:
            raise CallbackRefused(f"A '{pending.provider}' integration named '{pending.name}' "
                                  "that is not an OAuth connection exists in this project; "
                                  "nothing was connected.", status=409)
        store.replace_credentials(services.keyring, row, credentials)  # clears expired_reason
        row.config = config
        integrity.stamp(services.keyring, row)  # config is bound; the old MAC verified above
        apply_result(row, result)
        row.expires_at = None
        row.save(only=[Integration.config, Integration.last_verification,
                       Integration.expires_at, Integration.expired_reason, Integration.integrity])
        store.record(principal, "integration.connect", row, project,
                     details | {"reconnected": True})
    return row


def _consume(state: str) -> OAuthPending | None:
    """The pending connection of this state, removed; None when there is none (never issued,
    already used by another callback). Whoever's DELETE removes the row has it."""
    digest = state_hash(state)
    with database.atomic():
        pending = OAuthPending.get_or_none(OAuthPending.state_hash == digest)
        if pending is None:
            return None
        if OAuthPending.delete().where(OAuthPending.state_hash == digest).execute() != 1:
            return None  # another callback consumed it first
    return pending


def _starter(services: Services, pending: OAuthPending, request_id, client_ip) -> Principal | None:
    """The key that started the connection, as the actor of its events; None if it is gone,
    revoked or expired (then nothing is connected in its name)."""
    if pending.created_by is None:
        return None
    key = ApiKey.get_or_none(ApiKey.id == pending.created_by)
    if key is None or key.revoked_at is not None or (
            key.expires_at is not None and key.expires_at <= utcnow()):
        return None
    return dataclasses.replace(principal_of(key), signer=services.keyring, request_id=request_id,
                               client_ip=client_ip)

