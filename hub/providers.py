"""What a provider plugin declares: the provider, its auth methods and the result of its check.

A plugin builds one `Provider` per third-party service and hands it to the `register` callback of
the `hub_register_providers` hook. The hub validates the declaration, derives the JSON Schemas and
UI metadata from the marshmallow schemas, and calls `verify` with decrypted credentials.

Marshmallow field metadata understood by the hub (all optional):
  secret: bool        the value is a credential: encrypted, never returned, `writeOnly` in JSON Schema
  display_name: str   label for a UI
  description: str    help text for a UI
  ui_hint: str        e.g. "password", "textarea", "url"
  options: list       allowed values, for a select box
  host: bool          the value chooses the server that credentials are sent to (a URL); changing it
                      without re-sending the credentials is refused
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Callable, Protocol

import marshmallow

ERROR_CODES = (
    "invalid_credentials",
    "expired",
    "revoked",
    "insufficient_scope",
    "rate_limited",
    "unreachable",
    "timeout",
    "blocked_address",
    "provider_error",
)


@dataclasses.dataclass(frozen=True)
class AuthMethod:
    """One way to authenticate to a provider (a token, an app, basic auth ...)."""

    id: str
    display_name: str
    credentials_schema: type[marshmallow.Schema]
    description: str = ""
    default: bool = False


@dataclasses.dataclass(frozen=True)
class VerifyError:
    code: str  # one of ERROR_CODES
    message: str  # for a person; never echoes the provider's body or a credential
    retry_after: int | None = None  # seconds, for rate_limited


@dataclasses.dataclass(frozen=True)
class VerificationResult:
    """What a check found. `checked_at` and `duration_ms` are added by the hub."""

    ok: bool
    identity: dict[str, Any] | None = None
    scopes: list[str] | None = None
    expires_at: datetime.datetime | None = None  # aware, UTC
    error: VerifyError | None = None

    @classmethod
    def success(cls, identity=None, scopes=None, expires_at=None) -> "VerificationResult":
        return cls(ok=True, identity=identity, scopes=scopes, expires_at=expires_at)

    @classmethod
    def failure(cls, code: str, message: str, retry_after: int | None = None,
                identity=None, scopes=None, expires_at=None) -> "VerificationResult":
        if code not in ERROR_CODES:
            raise ValueError(f"unknown verification error code {code!r}; use one of {ERROR_CODES}")
        return cls(ok=False, identity=identity, scopes=scopes, expires_at=expires_at,
                   error=VerifyError(code, message, retry_after))


class HttpResponse(Protocol):
    status: int
    headers: Any  # case-insensitive mapping
    body: bytes  # capped in size by the hub

    def json(self) -> Any: ...


class HttpClient(Protocol):
    """The client the hub hands to `verify`: timeouts, size cap and address policy already applied.

    `request` raises `hub.egress.EgressError` (code `unreachable`, `timeout` or `blocked_address`);
    a check may let it propagate, the hub turns it into a failed result.
    """

    def request(self, method: str, url: str, *, headers: dict | None = None,
                json: Any = None, data: bytes | None = None) -> HttpResponse: ...


VerifyFunction = Callable[[str, dict, dict, HttpClient], VerificationResult]
"""verify(auth_type, credentials, config, http) -> VerificationResult"""


@dataclasses.dataclass(frozen=True)
class Provider:
    """A third-party service whose credentials the hub keeps."""

    name: str  # ^[a-z][a-z0-9_-]{0,62}$, unique across all plugins
    display_name: str
    description: str
    version: str
    auth_methods: tuple[AuthMethod, ...]
    config_schema: type[marshmallow.Schema]
    verify: VerifyFunction | None = None
    # Filled in by the hub when it registers the provider: the distribution it came from.
    package: str | None = None

    @property
    def default_auth_method(self) -> AuthMethod:
        for method in self.auth_methods:
            if method.default:
                return method
        return self.auth_methods[0]

    def auth_method(self, auth_type: str) -> AuthMethod | None:
        for method in self.auth_methods:
            if method.id == auth_type:
                return method
        return None
