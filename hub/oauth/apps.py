"""OAuth apps: an org's client registrations at OAuth providers, the client secret sealed.

Writing one needs `integrations:write` with a key that reaches every project of the org (an app
serves the whole org); reading needs `integrations:read`. A secret is never returned. Changing
where the client secret is sent (the token URL) without sending the secret again is refused, as
for an integration's host: write access must not redirect a stored secret to another server.
"""
from __future__ import annotations

import dataclasses
import logging
from urllib.parse import urlsplit

from hub.audit import log as audit
from hub.errors import (
    Conflict,
    Corrupted,
    DecryptionFailed,
    Forbidden,
    InvalidInput,
    NotFound,
    invalid_field,
)
from hub.integrations.validation import NAME_RE
from hub.plugins import ProviderRegistry
from hub.sdk import AuthMethod, OAuth, Provider
from hub.storage.conflicts import atomic_or
from hub.storage.database import is_sqlite
from hub.storage.models import OAuthApp, database, new_id, utcnow
from hub.tenancy import UUID_RE, Principal
from hub.tenancy import permissions as perms

log = logging.getLogger("hub.integrity")

URL_FIELDS = ("authorize_url", "token_url", "api_base_url")
MAX_SCOPES = 100


@dataclasses.dataclass(frozen=True)
class AppEndpoints:
    """Where one app's flow goes: the provider's declaration with the app's overrides."""

    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    authorize_url: str
    token_url: str
    api_base_url: str


def oauth_method(provider: Provider) -> AuthMethod | None:
    """The provider's auth method that declares OAuth, or None."""
    return next((m for m in provider.auth_methods if m.oauth is not None), None)


def oauth_provider(registry: ProviderRegistry, name: str,
                   field: str = "provider") -> tuple[Provider, AuthMethod]:
    provider = registry.get(name)
    if provider is None:
        known = ", ".join(registry.names()) or "none are loaded"
        raise invalid_field(field, f"Unknown provider '{name}'. Known providers: {known}.")
    method = oauth_method(provider)
    if method is None:
        with_oauth = [n for n in registry.names() if oauth_method(registry.get(n))]
        raise invalid_field(field, f"Provider '{name}' declares no OAuth connection; these do: "
                                   f"{', '.join(with_oauth) or 'none'}.")
    return provider, method


def endpoints(keyring, app: OAuthApp, oauth: OAuth) -> AppEndpoints:
    """The app's client credentials (secret opened) and URLs (overrides over the defaults).

    :raises Corrupted: the secret does not open under this row's provider, client id and token
        endpoint (the row was edited outside the hub): nothing is sent anywhere.
    """
    try:
        secret = keyring.open_sealed(app.client_secret_key_id, app.client_secret_ciphertext,
                                     app.sealed_aad()).decode("utf-8")
    except DecryptionFailed:
        log.error("integrity check failed: OAuth app %s: its client secret does not open under "
                  "its stored provider, client id and token URL; it is not used", app.id)
        raise Corrupted(f"The OAuth app '{app.name}' does not verify: its stored client id or "
                        "token URL was changed outside the hub. Send its client_secret again "
                        f"(PUT /v1/oauth-apps/{app.id}) after checking its URLs.") from None
    return AppEndpoints(client_id=app.client_id, client_secret=secret,
                        authorize_url=app.authorize_url or oauth.authorize_url,
                        token_url=app.token_url or oauth.token_url,
                        api_base_url=app.api_base_url or oauth.api_base_url)


def to_record(app: OAuthApp) -> dict:
    """The API's record: everything but the client secret."""
    return {"id": app.id, "provider": app.provider, "name": app.name, "client_id": app.client_id,
            "scopes": app.scopes, "redirect_origins": app.redirect_origins,
            "authorize_url": app.authorize_url, "token_url": app.token_url,
            "api_base_url": app.api_base_url, "created_at": app.created_at,
            "updated_at": app.updated_at}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, lower-cased, default ports dropped; else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def _origins(values: list[str]) -> list[str]:
    origins = []
    for index, value in enumerate(values):
        origin = origin_of(value)
        if origin is None or value.rstrip("/") != origin and urlsplit(value).path not in ("", "/"):
            raise invalid_field(f"redirect_origins.{index}", "Give an origin: "
                                                             "scheme://host[:port], "
                                                             "with no path, e.g. https://app.example.com.")
        if origin not in origins:
            origins.append(origin)
    return origins


def _url(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    if origin_of(value) is None:
        raise invalid_field(field, "Give an http(s) URL without a user name or password.")
    return value


def _scopes(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    for index, scope in enumerate(values):
        if not scope or len(scope) > 200 or any(c.isspace() or c == "," for c in scope):
            raise invalid_field(f"scopes.{index}", "A scope is 1-200 characters without spaces "
                                                   "or commas.")
    return list(dict.fromkeys(values))


def _require_org_writer(principal: Principal) -> None:
    principal.require(perms.INTEGRATIONS_WRITE)
    if principal.project_ids is not None:
        raise Forbidden("OAuth apps serve the whole org: only a key that reaches every project "
                        "may create or change them.")


def _name_taken(provider: str, name: str) -> Conflict:
    return Conflict(f"An OAuth app named '{name}' for '{provider}' already exists in this org; "
                    "choose another name.", errors={"name": ["Already taken for this provider."]})


def _seal_secret(keyring, app: OAuthApp, secret: str) -> None:
    sealed = keyring.seal(secret.encode("utf-8"), app.sealed_aad())
    app.client_secret_key_id, app.client_secret_ciphertext = sealed.key_id, sealed.ciphertext


def create(keyring, registry: ProviderRegistry, principal: Principal, data: dict) -> OAuthApp:
    _require_org_writer(principal)
    provider, _ = oauth_provider(registry, data["provider"])
    if not NAME_RE.fullmatch(data["name"]):
        raise invalid_field("name", "Use 1-100 letters, digits, '_' or '-'.")
    app = OAuthApp(id=new_id(), org=principal.org_id, provider=provider.name, name=data["name"],
                   client_id=data["client_id"], scopes=_scopes(data.get("scopes")),
                   redirect_origins=_origins(data.get("redirect_origins") or []),
                   **{f: _url(f, data.get(f)) for f in URL_FIELDS})
    _seal_secret(keyring, app, data["client_secret"])
    with atomic_or(_name_taken(app.provider, app.name)):
        app.save(force_insert=True)
        _record(principal, "oauth_app.create", app, {"provider": app.provider, "name": app.name})
    return app


def find(principal: Principal, ref: str, *, provider: str | None = None,
         for_update: bool = False) -> OAuthApp:
    """An app of the principal's org by id, or by name (with `provider`, or when the name is
    unique among the org's apps)."""
    query = OAuthApp.select().where(OAuthApp.org == principal.org_id)
    if UUID_RE.fullmatch(ref):
        query = query.where(OAuthApp.id == ref)
    else:
        query = query.where(OAuthApp.name == ref)
        if provider:
            query = query.where(OAuthApp.provider == provider)
    if for_update and not is_sqlite(database.obj):  # SQLite: BEGIN IMMEDIATE holds the lock
        query = query.for_update()
    found = list(query.limit(2))
    if len(found) != 1:
        if len(found) > 1:
            raise InvalidInput(f"Several OAuth apps are named '{ref}': give the app's id.",
                               errors={"oauth_app": ["Ambiguous name."]})
        raise NotFound(f"No OAuth app '{ref}' in this org.")
    return found[0]


def get(principal: Principal, app_id: str) -> OAuthApp:
    principal.require(perms.INTEGRATIONS_READ)
    return find(principal, app_id)


def list_query(principal: Principal, provider: str | None = None):
    principal.require(perms.INTEGRATIONS_READ)
    query = OAuthApp.select().where(OAuthApp.org == principal.org_id)
    if provider:
        query = query.where(OAuthApp.provider == provider)
    return query


def update(keyring, principal: Principal, app_id: str, changes: dict) -> OAuthApp:
    """PUT: each field given replaces that field whole; omitted fields stay."""
    _require_org_writer(principal)
    with database.atomic():
        app = find(principal, app_id, for_update=True)
        if "provider" in changes and changes["provider"] != app.provider:
            raise invalid_field("provider", f"An OAuth app's provider cannot change (it is "
                                            f"'{app.provider}'); create a new app instead.")
        if "name" in changes and not NAME_RE.fullmatch(changes["name"]):
            raise invalid_field("name", "Use 1-100 letters, digits, '_' or '-'.")
        if "client_secret" not in changes:
            for field in ("token_url", "client_id"):
                if field in changes and changes[field] != getattr(app, field):
                    raise invalid_field(field, "Changing where the client secret is sent, or whose "
                                               "it is, requires sending client_secret again.")
        for field in ("name", "client_id"):
            if field in changes:
                setattr(app, field, changes[field])
        for field in URL_FIELDS:
            if field in changes:
                setattr(app, field, _url(field, changes[field]))
        if "scopes" in changes:
            app.scopes = _scopes(changes["scopes"])
        if "redirect_origins" in changes:
            app.redirect_origins = _origins(changes["redirect_origins"] or [])
        if "client_secret" in changes:
            _seal_secret(keyring, app, changes["client_secret"])
        app.updated_at = utcnow()
        with atomic_or(_name_taken(app.provider, changes.get("name", ""))):
            app.save()
        _record(principal, "oauth_app.update", app, {"fields": sorted(changes)})
    return app


def delete(principal: Principal, app_id: str) -> None:
    """The app goes, with the connections it started and not yet finished; integrations it
    connected stay, and read as expired once their token needs refreshing."""
    _require_org_writer(principal)
    with database.atomic():
        app = find(principal, app_id, for_update=True)
        OAuthApp.delete().where(OAuthApp.id == app.id).execute()
        _record(principal, "oauth_app.delete", app, {"provider": app.provider, "name": app.name})


def _record(principal: Principal, action: str, app: OAuthApp, details: dict) -> None:
    audit.record(principal, action, target_type="oauth_app", target_id=app.id, details=details)

