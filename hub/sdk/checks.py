"""The declarative check: one HTTP request whose answer decides the result, declared as values.

Most providers check a credential the same way: send it to one endpoint and read the answer. An
`HttpCheck` declares that request and how to read its answer; attach one to each `AuthMethod`
(`AuthMethod(..., check=HttpCheck(...))`) and leave `Provider.verify` out: the provider's `verify`
is then made from the checks (`checks_verify`), and the hub runs it like any other. A method
without a check falls back to the provider's hand-written `verify`, for what a declaration cannot
express (signing a JWT, two requests, a body that is not JSON).

    HttpCheck(
        method="POST", path="/graphql",
        base_url=BaseUrl(config="api_base_url", default="https://api.linear.app"),
        auth=Header("Authorization", "api_key"),
        json={"query": "{ viewer { id name email } }"},
        identity={"id": "data.viewer.id", "name": "data.viewer.name"},
        errors=(ErrorRule("invalid_credentials", "Linear does not accept this API key.",
                          path="errors[].extensions.code", equals="AUTHENTICATION_ERROR"),),
        rate_limit=RateLimit(reset_header="X-RateLimit-Requests-Reset"),
    )

How an answer is read, in this order (the first that applies decides):

1. `errors`: each `ErrorRule` in turn; the first whose conditions all hold gives the failure.
2. A status in `rate_limit.status` (429): `rate_limited`.
3. A status in `success_status` (200): success, once the body passes `success_path` and
   `identity.require_any` (else a `provider_error` saying the answer is not the provider's API).
4. Otherwise, built in: a redirect (never followed), a server error (5xx), 401 as
   `invalid_credentials`, and any other status as `provider_error`; each message names the
   status, never the body.

A `rate_limited` failure, from a rule or the status, carries `retry_after` read from the headers by
`hub.sdk.retry_after` (Retry-After in seconds or as an HTTP date, X-RateLimit-Reset-After,
X-RateLimit-Reset in epoch seconds or milliseconds), or from `rate_limit.reset_header`.

JSON paths (`success_path`, `identity`, `ErrorRule.path`, `Scopes.path`, `Expiry.path`,
`error_code`) are dotted keys into the answer: `ok`, `data.viewer.id`; `key[0]` takes one element
of a list and `key[]` any element (`errors[].extensions.code` holds when any error's code does).

Messages are for people. They name the request and the status, or the provider's error code when
it is a plain identifier; never a credential or the provider's body. Identity values are JSON
scalars, strings clamped to `MAX_IDENTITY_LENGTH` characters.

A malformed declaration (an unknown error code, a credential field the schema lacks, a bad JSON
path) is refused when the plugin loads: `hub.plugins.declaration_problems` lists why.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Union

__all__ = ["Basic", "BaseUrl", "Bearer", "ErrorRule", "Expiry", "Header", "HttpCheck", "Identity",
           "JsonBody", "MAX_IDENTITY_LENGTH", "Query", "RateLimit", "Scopes", "checks_verify"]

MAX_IDENTITY_LENGTH = 256  # characters of one identity string; longer ones are cut


# How the credentials go into the request --------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Bearer:
    """`Authorization: Bearer <credentials[field]>` (`scheme` changes the word, `""` drops it)."""

    field: str = "token"
    scheme: str = "Bearer"


@dataclasses.dataclass(frozen=True)
class Basic:
    """`Authorization: Basic base64(<credentials[username]>:<credentials[password]>)`."""

    username: str = "username"
    password: str = "password"


@dataclasses.dataclass(frozen=True)
class Header:
    """A named header carrying a credential: `<name>: <prefix><credentials[field]>`
    (`Header("X-Api-Key", "api_key")`; `Header("Authorization", "api_key")` sends it bare)."""

    name: str
    field: str
    prefix: str = ""


@dataclasses.dataclass(frozen=True)
class Query:
    """A query parameter carrying a credential: `?<name>=<credentials[field]>`, URL-encoded.
    Only for an API that takes nothing else: URLs end up in proxies' logs."""

    name: str
    field: str


@dataclasses.dataclass(frozen=True)
class JsonBody:
    """Credentials inside the JSON body: `{path: field}`, each path a dotted key into the body
    (`JsonBody({"token": "token"})`, `JsonBody({"variables.key": "api_key"})` for GraphQL),
    merged into `HttpCheck.json`."""

    fields: Mapping[str, str]


Auth = Union[Bearer, Basic, Header, Query, JsonBody]
"""One credential placement; `HttpCheck.auth` takes one or a tuple of them."""


# Where the request goes -----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class BaseUrl:
    """Where the API answers: a config field (`config="api_base_url"`) or a credentials field
    (`credentials="base_url"`, as Jira's site), else `default`. Name a field marked `host: True`
    in its schema, so that changing it without sending the credentials again is refused. A path
    on the base URL is kept (`https://jira.corp/jira` + `/rest/api/2/myself`)."""

    config: str | None = None
    credentials: str | None = None
    default: str | None = None


# Reading the answer ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Identity:
    """Who the credentials belong to: `{identity key: JSON path}`. A missing value reads None,
    unless its key is in `omit_empty` (then it is left out when missing, null or empty). With
    `require_any`, a success answer must carry at least one of those keys, else it is not the
    provider's API (a login page served with 200). A plain dict `HttpCheck(identity={...})`
    means `Identity({...})`."""

    fields: Mapping[str, str]
    omit_empty: tuple[str, ...] = ()
    require_any: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Scopes:
    """Where the scopes are: a `header` (split on `separator`, blanks dropped, as Slack's and
    GitHub's `X-OAuth-Scopes`) or a JSON `path` (a list of strings, or a string to split).
    Neither present in an answer: scopes are None (the provider does not say)."""

    header: str | None = None
    path: str | None = None
    separator: str = ","


@dataclasses.dataclass(frozen=True)
class Expiry:
    """When the stored credential expires: a `header` or a JSON `path` holding an ISO 8601 time,
    `2024-06-01 00:00:00 UTC` (GitHub's form, offsets like `+0900` too) or epoch seconds or
    milliseconds. Unreadable or absent: no expiry. Only for the credential itself, never for a
    token the check mints (see `VerificationResult.expires_at`)."""

    header: str | None = None
    path: str | None = None


@dataclasses.dataclass(frozen=True)
class ErrorRule:
    """One row of the table from provider answers to the hub's error codes.

    It holds when every condition given holds: `status` (one code or a tuple), `path` (a JSON
    path; with `equals`, its value must equal it, or with `[]` any element's; without, it must be
    present and not null/false/empty), `header` (present; with `contains`, its value must contain
    that text, ignoring case). `code` is one of `ERROR_CODES`; `message` is shown to the user
    as is: say what happened and what to do.
    """

    code: str
    message: str
    status: int | tuple[int, ...] | None = None
    path: str | None = None
    equals: Any = None
    header: str | None = None
    contains: str | None = None


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """Which statuses mean "rate limited" (default 429), and a provider's own reset header
    (`reset_header="X-RateLimit-Requests-Reset"`, epoch seconds or milliseconds) read when the
    standard headers `hub.sdk.retry_after` knows say nothing."""

    status: tuple[int, ...] = (429,)
    reset_header: str | None = None


@dataclasses.dataclass(frozen=True)
class HttpCheck:
    """A credential check that is one HTTP request; see the module's docstring for how the
    answer is read.

    - `method`, `path`: the request, `path` under the base URL (starting with `/`).
    - `base_url`: a `BaseUrl`, or a fixed URL string.
    - `auth`: how the credentials go in (`Bearer`, `Basic`, `Header`, `Query`, `JsonBody`, or a
      tuple of them); the fields named must be in the auth method's credentials schema.
    - `headers`: fixed headers (`Accept`, `User-Agent`); `json` or `data`: a fixed body (a
      GraphQL query: `json={"query": "{ viewer { id } }"}`).
    - `success_status`: the statuses that can mean success; `success_path`: a JSON path that
      must be `true` (Slack's `ok`; `false` is a refusal, anything else not the provider's API).
    - `identity`: an `Identity` or a `{key: JSON path}` dict; `scopes`: `Scopes`; `expires`:
      `Expiry`.
    - `errors`: `ErrorRule`s, tried in order before anything else.
    - `error_code`: the JSON path of the provider's own error code (Slack's `error`), named in
      the message when no rule knows it and it is a plain identifier.
    - `rate_limit`: `RateLimit`.
    - `what`: how messages name the request (default `"METHOD path"`).
    """

    path: str
    method: str = "GET"
    base_url: BaseUrl | str = BaseUrl(config="api_base_url")
    auth: Auth | tuple[Auth, ...] = Bearer()
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    json: Any = None
    data: bytes | None = None
    success_status: tuple[int, ...] = (200,)
    success_path: str | None = None
    identity: Identity | Mapping[str, str] | None = None
    scopes: Scopes | None = None
    expires: Expiry | None = None
    errors: tuple[ErrorRule, ...] = ()
    error_code: str | None = None
    rate_limit: RateLimit = RateLimit()
    what: str | None = None


def checks_verify(provider, fallback=None):
    """The `verify(auth_type, credentials, config, http)` made from a provider's declared checks:
    each auth method's `check` runs for that method; a method without one goes to `fallback` (the
    hand-written `verify` given to the `Provider`). `Provider` calls this itself when one of its
    auth methods has a `check`, so plugins rarely need to."""
    def verify(auth_type, credentials, config, http):
        raise NotImplementedError("the declarative check engine is being written (issue 13)")

    verify.hub_fallback = fallback
    return verify
