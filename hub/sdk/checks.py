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
X-RateLimit-Reset in epoch seconds or milliseconds), or first from `rate_limit.reset_header`.

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

import base64
import copy
import dataclasses
import datetime
import re
import urllib.parse
from typing import Any, Mapping, Union

from hub.sdk.http import retry_after
from hub.sdk.results import ERROR_CODES, VerificationResult

__all__ = ["Basic", "BaseUrl", "Bearer", "ErrorRule", "Expiry", "Header", "HttpCheck", "Identity",
           "JsonBody", "MAX_IDENTITY_LENGTH", "Query", "RateLimit", "Scopes", "build_request",
           "checks_verify", "http_check_problems", "json_values", "parse_path", "parse_time",
           "read_answer", "run_http_check"]

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

    def __hash__(self) -> int:  # hashable like the other parts, though `fields` is a dict
        return hash(tuple(self.fields))


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

    def __hash__(self) -> int:  # hashable like the other parts, though `fields` is a dict
        return hash((tuple(self.fields), self.omit_empty, self.require_any))


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
    (`reset_header="X-RateLimit-Requests-Reset"`, epoch seconds or milliseconds), read first;
    without it (or when it is absent from an answer), the standard headers `hub.sdk.retry_after`
    knows."""

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

    def __hash__(self) -> int:
        # `headers` and `json` are dicts; equal checks still hash alike, and an AuthMethod that
        # holds a check stays hashable.
        return hash((self.method, self.path))


def checks_verify(provider, fallback=None):
    """The `verify(auth_type, credentials, config, http)` made from a provider's declared checks:
    each auth method's `check` runs for that method; a method without one goes to `fallback` (the
    hand-written `verify` given to the `Provider`). `Provider` calls this itself when one of its
    auth methods has a `check`, so plugins rarely need to."""
    display_name = provider.display_name if isinstance(provider.display_name, str) \
        else str(provider.name)
    checks = {m.id: m.check for m in provider.auth_methods
              if getattr(m, "check", None) is not None}

    def verify(auth_type, credentials, config, http):
        check = checks.get(auth_type)
        if check is None:
            if fallback is None:
                return VerificationResult.failure(
                    "provider_error", f"The {display_name} provider declares no check for the "
                                      f"auth method {auth_type!r}.")
            return fallback(auth_type, credentials, config, http)
        return run_http_check(check, credentials, config, http, display_name=display_name)

    verify.hub_fallback = fallback  # what Provider re-derives from on dataclasses.replace
    verify.hub_checks = checks
    verify.__qualname__ = verify.__name__ = f"verify_{provider.name}"
    return verify


# The engine -----------------------------------------------------------------------------------

_MISSING = object()
_KEY = r"[^.\[\]\s]+"
_STEP = re.compile(rf"({_KEY})((?:\[\d*\])*)")
_INDEX = re.compile(r"\[(\d*)\]")
_PROVIDER_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def parse_path(path: str) -> list:
    """A JSON path as steps: a key (str), an index (int) or any element (None).

    :raises ValueError: it is not a JSON path of this module's syntax.
    """
    if not isinstance(path, str) or not path:
        raise ValueError(f"{path!r} is not a JSON path")
    steps: list = []
    for part in path.split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            raise ValueError(f"{path!r} is not a JSON path (dotted keys, key[0] or key[])")
        steps.append(match.group(1))
        for index in _INDEX.findall(match.group(2)):
            steps.append(int(index) if index else None)
    return steps


def json_values(document: Any, path: str) -> list:
    """Every value at `path` in a parsed JSON document (several with `[]`; none when absent)."""
    found = [document]
    for step in parse_path(path):
        following = []
        for value in found:
            if isinstance(step, str):
                if isinstance(value, dict) and step in value:
                    following.append(value[step])
            elif isinstance(value, list):
                if step is None:
                    following.extend(value)
                elif step < len(value):
                    following.append(value[step])
        found = following
    return found


def _first(document: Any, path: str) -> Any:
    found = json_values(document, path)
    return found[0] if found else _MISSING


def _placements(check: HttpCheck) -> tuple:
    return check.auth if isinstance(check.auth, tuple) else (check.auth,)


def _identity_spec(check: HttpCheck) -> Identity | None:
    if check.identity is None or isinstance(check.identity, Identity):
        return check.identity
    return Identity(dict(check.identity))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _base_url(check: HttpCheck, credentials: Mapping, config: Mapping) -> str:
    spec = check.base_url
    if isinstance(spec, str):
        return spec
    value = None
    if spec.config:
        value = config.get(spec.config)
    if not value and spec.credentials:
        value = credentials.get(spec.credentials)
    value = value or spec.default
    if not value:
        raise ValueError("the check has no base URL")  # contained by the hub as provider_error
    return str(value)


def _base_field(check: HttpCheck) -> str | None:
    spec = check.base_url
    if isinstance(spec, BaseUrl):
        return spec.config or spec.credentials
    return None


def build_request(check: HttpCheck, credentials: Mapping, config: Mapping) -> dict[str, Any]:
    """The request the check sends: `method`, `url`, `headers`, and `json` or `data`."""
    url = _base_url(check, credentials, config).rstrip("/") + check.path
    headers = dict(check.headers)
    body = copy.deepcopy(check.json)
    query = []
    for place in _placements(check):
        if isinstance(place, Bearer):
            token = _text(credentials.get(place.field))
            headers["Authorization"] = f"{place.scheme} {token}" if place.scheme else token
        elif isinstance(place, Basic):
            pair = f"{_text(credentials.get(place.username))}:" \
                   f"{_text(credentials.get(place.password))}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        elif isinstance(place, Header):
            headers[place.name] = place.prefix + _text(credentials.get(place.field))
        elif isinstance(place, Query):
            query.append((place.name, _text(credentials.get(place.field))))
        elif isinstance(place, JsonBody):
            if not isinstance(body, dict):
                body = {}
            for path, field in place.fields.items():
                target = body
                *parents, last = path.split(".")
                for key in parents:
                    target = target.setdefault(key, {})
                target[last] = credentials.get(field)
    if query:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
    request: dict[str, Any] = {"method": check.method.upper(), "url": url, "headers": headers}
    if body is not None:
        request["json"] = body
    elif check.data is not None:
        request["data"] = check.data
    return request


class _Answer:
    """A response with its body parsed once, on demand."""

    def __init__(self, response):
        self.response = response
        self.status = response.status
        self.headers = response.headers
        self._parsed = _MISSING

    @property
    def document(self) -> Any:
        """The parsed JSON body, or _MISSING when the body is not JSON (HTML, truncated)."""
        if self._parsed is _MISSING:
            try:
                self._parsed = self.response.json()
            except ValueError:  # not JSON, not UTF-8, or truncated
                self._parsed = None
                self._valid = False
            else:
                self._valid = True
        return self._parsed if self._valid else _MISSING

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        if value is None:
            value = self.headers.get(name.lower())
        return value


def _rule_holds(rule: ErrorRule, answer: _Answer) -> bool:
    if rule.status is not None:
        statuses = rule.status if isinstance(rule.status, tuple) else (rule.status,)
        if answer.status not in statuses:
            return False
    if rule.header is not None:
        value = answer.header(rule.header)
        if value is None:
            return False
        if rule.contains is not None and rule.contains.lower() not in value.lower():
            return False
    if rule.path is not None:
        document = answer.document
        if document is _MISSING:
            return False
        values = json_values(document, rule.path)
        if rule.equals is not None:
            return any(value == rule.equals for value in values)
        return any(value not in (None, False, "", [], {}) for value in values)
    return True


def _retry_after(check: HttpCheck, answer: _Answer) -> int | None:
    name = check.rate_limit.reset_header
    if name:
        value = answer.header(name)
        if value is not None:
            seconds = retry_after({"x-ratelimit-reset": value})
            if seconds is not None:
                return seconds
    return retry_after(answer.headers)


def _failure(check: HttpCheck, answer: _Answer, code: str, message: str) -> VerificationResult:
    return VerificationResult.failure(
        code, message, retry_after=_retry_after(check, answer) if code == "rate_limited" else None)


def _clamp(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_IDENTITY_LENGTH]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return None  # an object or a list is no identity value


def _identity(spec: Identity, document: Any) -> dict[str, Any] | None:
    identity = {}
    for key, path in spec.fields.items():
        value = _first(document, path)
        if key in spec.omit_empty and value in (_MISSING, None, ""):
            continue
        identity[key] = None if value is _MISSING else _clamp(value)
    if spec.require_any and not any(identity.get(key) not in (None, "")
                                    for key in spec.require_any):
        return None
    return identity


def _scopes(spec: Scopes, answer: _Answer) -> list[str] | None:
    value: Any = None
    if spec.header:
        value = answer.header(spec.header)
    if value is None and spec.path and answer.document is not _MISSING:
        value = _first(answer.document, spec.path)
        if value is _MISSING:
            value = None
    if isinstance(value, str):
        return [scope.strip() for scope in value.split(spec.separator) if scope.strip()]
    if isinstance(value, list):
        return [str(scope) for scope in value if isinstance(scope, (str, int))]
    return None


def parse_time(value: Any) -> datetime.datetime | None:
    """An aware UTC datetime from an ISO 8601 time, `2024-06-01 00:00:00 UTC` (or `+0900`), or
    epoch seconds or milliseconds; None when it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        if len(value.strip()) > 18:  # no time has more digits; int() refuses 4,300 of them
            return None
        value = int(value.strip())
    if isinstance(value, (int, float)):
        try:  # an integer too large for a float overflows in the division
            epoch = value / 1000 if value > 10**11 else value
            return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    moment = None
    for pattern in ("%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S %z"):
        try:
            moment = datetime.datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    if moment is None:
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    try:
        return moment.astimezone(datetime.timezone.utc)
    except OverflowError:  # year 9999 at -14:00 is past the last datetime in UTC
        return None


def _expiry(spec: Expiry, answer: _Answer) -> datetime.datetime | None:
    value: Any = None
    if spec.header:
        value = answer.header(spec.header)
    if value is None and spec.path and answer.document is not _MISSING:
        value = _first(answer.document, spec.path)
    return parse_time(value) if value is not _MISSING else None


def run_http_check(check: HttpCheck, credentials: Mapping, config: Mapping, http, *,
                   display_name: str) -> VerificationResult:
    """Send the check's request with `http` and read the answer (module docstring). An
    `EgressError` from `http` propagates: the hub turns it into a failed result."""
    request = build_request(check, credentials, config or {})
    response = http.request(request.pop("method"), request.pop("url"), **request)
    return read_answer(check, response, display_name=display_name)


def read_answer(check: HttpCheck, response, *, display_name: str) -> VerificationResult:
    """The result an answer to the check's request means (module docstring)."""
    answer = _Answer(response)
    what = check.what or f"{check.method.upper()} {check.path}"
    field = _base_field(check)
    check_url = f"; check {field}" if field else ""
    status = answer.status

    for rule in check.errors:
        if _rule_holds(rule, answer):
            return _failure(check, answer, rule.code, rule.message)
    if status in check.rate_limit.status:
        return _failure(check, answer, "rate_limited",
                        f"{display_name} is rate limiting the hub: try again later.")
    if status in check.success_status:
        return _success(check, answer, display_name, what, field)
    if 300 <= status < 400:
        return VerificationResult.failure(
            "provider_error", f"{display_name} answered {what} with a redirect (HTTP {status}), "
                              f"which the hub does not follow{check_url}.")
    if status >= 500:
        return VerificationResult.failure(
            "provider_error", f"{display_name} answered {what} with a server error (HTTP "
                              f"{status}); try again later.")
    if status == 401:
        return VerificationResult.failure(
            "invalid_credentials", f"{display_name} does not accept these credentials (HTTP 401): "
                                   "check that they were copied whole and are still valid.")
    return VerificationResult.failure(
        "provider_error", f"{display_name} answered {what} with HTTP {status}{check_url}.")


def _success(check: HttpCheck, answer: _Answer, display_name: str, what: str,
             field: str | None) -> VerificationResult:
    identity_spec = _identity_spec(check)
    needs_body = bool(check.success_path or identity_spec
                      or (check.scopes and check.scopes.path)
                      or (check.expires and check.expires.path))
    document = answer.document
    advice = f"check {field}, and that" if field else "check that"
    not_the_api = VerificationResult.failure(
        "provider_error", f"The answer to {what} is not what the {display_name} API answers: "
                          f"{advice} no login page stands in front of the API.")
    if needs_body and (document is _MISSING or not isinstance(document, dict)):
        return not_the_api
    if check.success_path:
        ok = _first(document, check.success_path)
        if ok is False:
            return _refused(check, document, display_name)
        if ok is not True:
            return not_the_api
    identity = None
    if identity_spec is not None:
        identity = _identity(identity_spec, document)
        if identity is None:
            return not_the_api
    return VerificationResult.success(
        identity=identity,
        scopes=_scopes(check.scopes, answer) if check.scopes else None,
        expires_at=_expiry(check.expires, answer) if check.expires else None)


def _refused(check: HttpCheck, document: Any, display_name: str) -> VerificationResult:
    code = _first(document, check.error_code) if check.error_code else _MISSING
    named = f" ({code})" if isinstance(code, str) and _PROVIDER_CODE.fullmatch(code) else ""
    return VerificationResult.failure(
        "provider_error", f"{display_name} refused the check with an error the hub does not "
                          f"recognise{named}.")


# Validation at load ---------------------------------------------------------------------------

def http_check_problems(check: Any, credentials_fields, config_fields) -> list[str]:
    """What is wrong with a declared check, as sentences (empty when it can run).

    :param credentials_fields: the names of the auth method's credential fields (as loaded).
    :param config_fields: the names of the provider's config fields.
    """
    if not isinstance(check, HttpCheck):
        return [f"check must be a hub.sdk.HttpCheck, not a {type(check).__name__}"]
    problems = []
    credentials_fields, config_fields = set(credentials_fields), set(config_fields)

    def credential(field: Any, what: str) -> None:
        if field not in credentials_fields:
            problems.append(f"{what} names the credential field {field!r}, which the credentials "
                            f"schema does not have (it has: {', '.join(sorted(credentials_fields))})")

    def path(value: Any, what: str) -> None:
        try:
            parse_path(value)
        except ValueError:
            problems.append(f"{what} {value!r} is not a JSON path: use dotted keys, key[0] for "
                            "one element of a list and key[] for any element")

    if not isinstance(check.method, str) or check.method.upper() not in HTTP_METHODS:
        problems.append(f"method {check.method!r} is not one of {', '.join(HTTP_METHODS)}")
    if not isinstance(check.path, str) or not (check.path == "" or check.path.startswith("/")):
        problems.append(f"path {check.path!r} must be a string starting with '/'")
    base = check.base_url
    if isinstance(base, BaseUrl):
        if not (base.config or base.credentials or base.default):
            problems.append("base_url names no config field, no credentials field and no default")
        if base.config and base.config not in config_fields:
            problems.append(f"base_url names the config field {base.config!r}, which the config "
                            "schema does not have")
        if base.credentials:
            credential(base.credentials, "base_url")
    elif not (isinstance(base, str) and base.startswith(("https://", "http://"))):
        problems.append(f"base_url must be a hub.sdk.BaseUrl or an http(s) URL, not {base!r}")
    placements = _placements(check)
    if not placements:
        problems.append("auth places no credential in the request")
    for place in placements:
        if isinstance(place, (Bearer, Query)):
            credential(place.field, type(place).__name__)
        elif isinstance(place, Header):
            if not isinstance(place.name, str) or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+",
                                                                   place.name):
                problems.append(f"Header name {place.name!r} is not an HTTP header name")
            credential(place.field, "Header")
        elif isinstance(place, Basic):
            credential(place.username, "Basic")
            credential(place.password, "Basic")
        elif isinstance(place, JsonBody):
            if check.json is not None and not isinstance(check.json, dict):
                problems.append("JsonBody needs json to be an object (a dict) or None")
            for key, field in dict(place.fields).items():
                if not isinstance(key, str) or not all(key.split(".")):
                    problems.append(f"JsonBody key {key!r} is not a dotted path")
                credential(field, "JsonBody")
        else:
            problems.append(f"auth holds a {type(place).__name__}; use Bearer, Basic, Header, "
                            "Query or JsonBody")
    if check.json is not None and check.data is not None:
        problems.append("give json or data, not both")
    if not isinstance(check.headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in check.headers.items()):
        problems.append("headers must map header names to strings")
    for name, statuses in (("success_status", check.success_status),
                           ("rate_limit.status", getattr(check.rate_limit, "status", None))):
        if not isinstance(statuses, tuple) or not _statuses_ok(statuses):
            problems.append(f"{name} must be a tuple of HTTP status codes, not {statuses!r}")
    if not isinstance(check.rate_limit, RateLimit):
        problems.append("rate_limit must be a hub.sdk.RateLimit")
    for name in ("success_path", "error_code"):
        if getattr(check, name) is not None:
            path(getattr(check, name), name)
    identity = check.identity
    if identity is not None:
        spec = identity if isinstance(identity, Identity) else \
            Identity(dict(identity)) if isinstance(identity, Mapping) else None
        if spec is None:
            problems.append("identity must be a hub.sdk.Identity or a dict of JSON paths")
        else:
            for key, value in dict(spec.fields).items():
                path(value, f"identity[{key!r}]")
            for key in (*spec.omit_empty, *spec.require_any):
                if key not in spec.fields:
                    problems.append(f"identity names {key!r} in omit_empty or require_any, but "
                                    "not in its fields")
    for name, spec, kind in (("scopes", check.scopes, Scopes), ("expires", check.expires, Expiry)):
        if spec is None:
            continue
        if not isinstance(spec, kind):
            problems.append(f"{name} must be a hub.sdk.{kind.__name__}")
        elif not (spec.header or spec.path):
            problems.append(f"{name} names neither a header nor a JSON path")
        elif spec.path is not None:
            path(spec.path, f"{name}.path")
    if not isinstance(check.errors, tuple):
        problems.append("errors must be a tuple of hub.sdk.ErrorRule")
    else:
        for index, rule in enumerate(check.errors):
            where = f"errors[{index}]"
            if not isinstance(rule, ErrorRule):
                problems.append(f"{where} is a {type(rule).__name__}, not a hub.sdk.ErrorRule")
                continue
            if rule.code not in ERROR_CODES:
                problems.append(f"{where}: {rule.code!r} is not an error code; use one of "
                                f"{', '.join(ERROR_CODES)}")
            if not isinstance(rule.message, str) or not rule.message.strip():
                problems.append(f"{where}: give a message for people")
            if rule.status is None and rule.path is None and rule.header is None:
                problems.append(f"{where} has no condition (status, path or header): it would "
                                "match every answer")
            if rule.status is not None and not _statuses_ok(
                    rule.status if isinstance(rule.status, tuple) else (rule.status,)):
                problems.append(f"{where}: status must be an HTTP status code or a tuple of "
                                f"them, not {rule.status!r}")
            if rule.path is not None:
                path(rule.path, f"{where}: path")
            if rule.equals is not None and rule.path is None:
                problems.append(f"{where}: equals needs a path")
            if rule.contains is not None and rule.header is None:
                problems.append(f"{where}: contains needs a header")
    if check.what is not None and not isinstance(check.what, str):
        problems.append("what must be a string")
    return problems


def _statuses_ok(statuses: tuple) -> bool:
    return all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599
               for s in statuses)
