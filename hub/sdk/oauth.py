"""OAuth 2.0 as a provider declares it: `AuthMethod(id="oauth", oauth=OAuth(...))`.

A provider whose users connect by consent instead of pasting a token declares its OAuth endpoints
and manners here; the hub runs the flow (authorization URL with state and PKCE S256, code exchange,
refresh under a per-integration lock) and sends every request through its egress policy.

    OAuth(
        authorize_url="https://auth.example.com/authorize",
        token_url="https://auth.example.com/oauth/token",
        api_base_url="https://api.example.com",
        scopes={"read:things": "Read things", "offline_access": "Refresh tokens"},
        default_scopes=("read:things", "offline_access"),
        client_auth="json",
        authorize_params={"audience": "api.example.com", "prompt": "consent"},
        read_token=token_answer(),            # RFC 6749 answers (the default)
        after_exchange=find_site,             # optional: more facts stored with the token
    )

What each part means:

- `authorize_url`, `token_url`, `api_base_url`: the provider's defaults. An OAuth app (the org's
  client registration) may override each, for self-hosted servers and tests.
- `scopes`: the vocabulary (scope -> what it grants), for a UI; `default_scopes`: what a connection
  asks for when neither it nor its OAuth app names any. `scope_param` is the query parameter
  (None: the provider takes no scope, as GitHub Apps), joined by `scope_separator`;
  `scope_params(scopes) -> {param: value}` replaces both when a provider splits them (Slack's
  `scope` and `user_scope`).
- `authorize_params`: fixed extra query parameters of the authorization URL.
- `client_auth`: how the client id and secret reach the token endpoint: `"basic"` (HTTP Basic),
  `"form"` (in the form body) or `"json"` (the whole request as a JSON body, as Atlassian takes it).
- `read_token(status, document) -> OAuthToken | TokenRefusal`: how to read the token endpoint's
  answer (`document` is the parsed JSON body, or None). `token_answer(...)` makes one for the usual
  shapes: RFC 6749's `error` member, a success flag such as Slack's `ok`, a scope separator.
- `after_exchange(token, api_base_url, http) -> dict`: called once after the code exchange with
  the new `OAuthToken`; what it returns is stored with the credentials (Atlassian's cloud id and
  site). It may return a `TokenRefusal` to refuse the connection.
- `config_base_url`: the provider's config field that receives the OAuth app's `api_base_url`
  (None: the provider keeps its API location in the credentials, e.g. from `after_exchange`).

The credentials an `oauth` integration stores are `OAuthCredentials`: `access_token`,
`refresh_token`, `token_type`, `expires_at` (ISO 8601, or absent), `scopes`, and the extras.
The method's `check` (or the provider's `verify`) is handed them like any other credentials, with
an access token the hub has just made sure is fresh.
"""
from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any, Callable, Mapping

from marshmallow import INCLUDE, Schema, fields

__all__ = ["CLIENT_AUTH_STYLES", "OAuth", "OAuthCredentials", "OAuthToken", "TokenRefusal",
           "oauth_problems", "token_answer"]

CLIENT_AUTH_STYLES = ("basic", "form", "json")
MAX_EXPIRES_IN = 10 * 366 * 86400  # seconds: an access token said to live longer lives ten years
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$")


@dataclasses.dataclass(frozen=True)
class OAuthToken:
    """A token endpoint's success. `expires_in` in seconds (None: it does not expire);
    `extras`: provider facts stored with the credentials (Slack's team, bot user id)."""

    access_token: str = dataclasses.field(repr=False)
    refresh_token: str | None = dataclasses.field(default=None, repr=False)
    token_type: str = "bearer"
    expires_in: int | None = None
    scopes: tuple[str, ...] = ()
    extras: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.token_type, self.expires_in, self.scopes))


@dataclasses.dataclass(frozen=True)
class TokenRefusal:
    """A token endpoint's refusal: the provider's `error` code (an identifier, or "http_<status>"),
    a message for people that quotes nothing the provider sent but the code, and whether the grant
    is `spent` (a used code, a revoked or rotated-away refresh token, a deleted app: only a new
    connection helps) or the failure may pass (a server error)."""

    error: str
    message: str
    spent: bool = True
    # The provider refused the OAuth app's own client credentials (a secret rotated at the
    # provider, a mistyped client id): the grant is untouched, the app needs fixing.
    client_refused: bool = False


TokenReader = Callable[[int, Any], "OAuthToken | TokenRefusal"]

# RFC 6749's `invalid_client` and `unauthorized_client`, and the names Slack and GitHub give it.
CLIENT_ERRORS = ("invalid_client", "unauthorized_client", "incorrect_client_credentials",
                 "bad_client_secret", "invalid_client_id")


def token_answer(*, ok_path: str | None = None, scope_separator: str = " ",
                 extras: Mapping[str, str] | None = None, name: str = "The provider",
                 passing_errors: tuple[str, ...] = ("temporarily_unavailable", "server_error"),
                 client_errors: tuple[str, ...] = CLIENT_ERRORS,
                 ) -> TokenReader:
    """A `read_token` for the usual answer shapes.

    :param ok_path: a top-level member that must be true on success (Slack's `ok`); false means a
        refusal whatever the HTTP status.
    :param scope_separator: how the `scope` string is split.
    :param extras: `{stored name: dotted path}` of facts to keep with the token
        (`{"team_id": "team.id"}`); values are JSON scalars.
    :param name: how messages name the provider.
    :param passing_errors: error codes that are not the grant's fault (the grant is not spent).
    :param client_errors: error codes that refuse the OAuth app's client credentials (the grant
        is not spent either: the app's registration must be fixed).
    """
    extras = dict(extras or {})

    def read(status: int, document: Any) -> OAuthToken | TokenRefusal:
        if not isinstance(document, dict):
            return TokenRefusal(f"http_{status}", f"{name}'s token endpoint answered HTTP {status} "
                                                  "without a JSON object.", spent=False)
        error = document.get("error")
        refused = (ok_path is not None and document.get(ok_path) is not True) or bool(error) \
            or not isinstance(document.get("access_token"), str)
        if refused or status >= 400:
            named = isinstance(error, str) and _IDENTIFIER.fullmatch(error)
            code = error if named else f"http_{status}"
            if code in client_errors:
                return TokenRefusal(code, f"{name} refused the OAuth app's client credentials "
                                          f"({code}).", spent=False, client_refused=True)
            passing = status >= 500 or code in passing_errors or status == 429
            return TokenRefusal(code, f"{name} refused the token request ({code}).",
                                spent=not passing)
        expires_in = document.get("expires_in")
        scope = document.get("scope")
        return OAuthToken(
            access_token=document["access_token"],
            refresh_token=document.get("refresh_token") if isinstance(
                document.get("refresh_token"), str) else None,
            token_type=str(document.get("token_type") or "bearer"),
            expires_in=int(expires_in) if isinstance(expires_in, (int, float)) and not isinstance(
                expires_in, bool) else None,
            scopes=tuple(s.strip() for s in scope.split(scope_separator) if s.strip())
            if isinstance(scope, str) else (),
            extras={key: _scalar(_at(document, path)) for key, path in extras.items()
                    if _at(document, path) is not None})

    return read


def _at(document: Any, path: str) -> Any:
    for step in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(step)
    return document


def _scalar(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value[:256] if isinstance(value, str) else value
    return None


@dataclasses.dataclass(frozen=True)
class OAuth:
    """A provider's OAuth 2.0 authorization-code flow; see the module's docstring."""

    authorize_url: str
    token_url: str
    api_base_url: str
    scopes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    default_scopes: tuple[str, ...] = ()
    scope_param: str | None = "scope"
    scope_separator: str = " "
    scope_params: Callable[[tuple[str, ...]], Mapping[str, str]] | None = None
    authorize_params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    client_auth: str = "basic"
    token_headers: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: {"Accept": "application/json"})
    read_token: TokenReader = dataclasses.field(default_factory=token_answer)
    after_exchange: Callable[[OAuthToken, str, Any],
                             "Mapping[str, Any] | TokenRefusal"] | None = None
    config_base_url: str | None = "api_base_url"

    def __hash__(self) -> int:
        return hash((self.authorize_url, self.token_url))

    def query_scopes(self, scopes: tuple[str, ...]) -> dict[str, str]:
        """The authorization URL's scope parameters for these scopes."""
        if self.scope_params is not None:
            return {k: v for k, v in dict(self.scope_params(tuple(scopes))).items() if v}
        if self.scope_param is None or not scopes:
            return {}
        return {self.scope_param: self.scope_separator.join(scopes)}


class OAuthCredentials(Schema):
    """What an `oauth` integration stores (the hub fills it from the token endpoint's answer;
    provider extras such as `cloud_id` are kept as they are)."""

    class Meta:
        unknown = INCLUDE

    access_token = fields.String(required=True, metadata={
        "secret": True, "display_name": "Access token", "ui_hint": "password",
        "description": "Obtained by connecting with OAuth; refreshed by the hub."})
    refresh_token = fields.String(allow_none=True, metadata={
        "secret": True, "display_name": "Refresh token", "ui_hint": "password",
        "description": "Spent and replaced on every refresh when the provider rotates them."})
    token_type = fields.String(load_default="bearer", metadata={
        "display_name": "Token type", "description": "As the token endpoint said (bearer, bot)."})
    expires_at = fields.String(allow_none=True, metadata={
        "display_name": "Access token expiry",
        "description": "When the access token expires (ISO 8601, UTC); absent: it does not."})
    scopes = fields.List(fields.String(), load_default=list, metadata={
        "display_name": "Scopes", "description": "What the provider granted."})
    oauth_app_id = fields.String(allow_none=True, metadata={
        "display_name": "OAuth app",
        "description": "The OAuth app (client registration) that refreshes it."})


def expires_at_of(token: OAuthToken, now: datetime.datetime) -> str | None:
    """The ISO 8601 expiry of a token issued at `now` (aware UTC), or None."""
    if token.expires_in is None:
        return None
    # The provider's number, bounded: a datetime cannot hold 10**18 seconds from now.
    seconds = min(max(token.expires_in, 0), MAX_EXPIRES_IN)
    moment = now + datetime.timedelta(seconds=seconds)
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="seconds") \
        .replace("+00:00", "Z")


def oauth_problems(oauth: Any) -> list[str]:
    """What is wrong with an `OAuth` declaration, as sentences (the plugin loader reports them)."""
    if not isinstance(oauth, OAuth):
        return [f"oauth must be a hub.sdk.OAuth, not a {type(oauth).__name__}"]
    problems = []
    for attribute in ("authorize_url", "token_url", "api_base_url"):
        value = getattr(oauth, attribute)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            problems.append(f"oauth.{attribute} must be an http(s) URL")
    if oauth.client_auth not in CLIENT_AUTH_STYLES:
        problems.append(f"oauth.client_auth must be one of {', '.join(CLIENT_AUTH_STYLES)}, "
                        f"not {oauth.client_auth!r}")
    if not callable(oauth.read_token):
        problems.append("oauth.read_token must be a function read_token(status, document)")
    if oauth.after_exchange is not None and not callable(oauth.after_exchange):
        problems.append("oauth.after_exchange must be a function or None")
    if not all(isinstance(s, str) and s for s in oauth.default_scopes):
        problems.append("oauth.default_scopes must be non-empty strings")
    return problems
