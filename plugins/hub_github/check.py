"""The GitHub checks: `GET /user` for a token; `GET /app` (and an installation token) for an app.

GitHub's failure messages differ between github.com and Enterprise Server, so failures are judged
on status codes and headers, never on the wording of the body (which is never echoed either).
"""
from __future__ import annotations

import dataclasses
import datetime
import re

from hub.sdk import VerificationResult, retry_after
from hub_github.app_jwt import InvalidPrivateKey, make_app_jwt
from hub_github.schemas import DEFAULT_API_BASE_URL

API_VERSION = "2022-11-28"
USER_AGENT = "hub-integration-check"  # GitHub refuses requests without a User-Agent

_SSO_ORG = re.compile(r"/orgs/([A-Za-z0-9-]{1,39})/sso")


def verify(auth_type: str, credentials: dict, config: dict, http) -> VerificationResult:
    # An EgressError from `http` (unreachable, timeout, blocked address) is left to the hub, which
    # turns it into a failed result with its code and message.
    checks = {"pat": check_token, "app": check_app, "oauth": check_oauth_token}
    return checks[auth_type](credentials, config, http)


def check_oauth_token(credentials: dict, config: dict, http) -> VerificationResult:
    """A user access token from the OAuth flow: GET /user, as for a pasted token. Its expiry is
    the access token's, which the hub refreshes: not the integration's, so it is not reported."""
    result = check_token({"token": credentials["access_token"]}, config, http)
    return dataclasses.replace(result, expires_at=None)


def api_headers(bearer: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {bearer}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": USER_AGENT,
    }


def check_token(credentials: dict, config: dict, http) -> VerificationResult:
    response = http.request("GET", f"{_base_url(config)}/user",
                            headers=api_headers(credentials["token"]))
    if response.status != 200:
        expires_at = token_expiration(response.headers)
        if response.status == 401 and expires_at is not None and expires_at <= _now():
            return VerificationResult.failure(
                "expired", f"The token expired on {expires_at:%Y-%m-%d}: regenerate it on GitHub "
                           "and store the new one.", expires_at=expires_at)
        return failure_of(response, "GET /user", unauthorized=(
            "GitHub does not accept this token: it is wrong, revoked or expired."))
    user = _json_object(response)
    if user is None or "login" not in user:
        return _not_github("GET /user")
    identity = {key: user.get(key) for key in ("login", "id", "type", "name")}
    return VerificationResult.success(identity=identity, scopes=oauth_scopes(response.headers),
                                      expires_at=token_expiration(response.headers))


def check_app(credentials: dict, config: dict, http) -> VerificationResult:
    base_url = _base_url(config)
    try:
        app_jwt = make_app_jwt(credentials["app_id"], credentials["private_key"])
    except InvalidPrivateKey as exc:
        return VerificationResult.failure("invalid_credentials", str(exc))
    response = http.request("GET", f"{base_url}/app", headers=api_headers(app_jwt))
    if response.status != 200:
        return failure_of(response, "GET /app", unauthorized=(
            "GitHub does not accept the app's token: check the App ID and the private key "
            "(a key deleted on GitHub stops working), and that this server's clock is right."))
    app = _json_object(response)
    if app is None or "id" not in app:
        return _not_github("GET /app")
    identity = {"id": app.get("id"), "slug": app.get("slug"), "name": app.get("name"),
                "owner": (app.get("owner") or {}).get("login")}
    scopes = permission_scopes(app.get("permissions"))

    installation_id = credentials.get("installation_id")
    if not installation_id:
        return VerificationResult.success(identity=identity, scopes=scopes)
    return _check_installation(http, base_url, app_jwt, installation_id, identity)


def _check_installation(http, base_url: str, app_jwt: str, installation_id: int,
                        identity: dict) -> VerificationResult:
    # GitHub issues a token (valid one hour) only for an installation the app still has. The
    # token itself is dropped: the check only learns that it can be had, and until when. That
    # expiry is the minted token's, not the stored credential's (the app's private key does not
    # expire), so it goes in the identity and never in the result's expires_at, which the hub
    # would make the integration's.
    response = http.request("POST", f"{base_url}/app/installations/{installation_id}/access_tokens",
                            headers=api_headers(app_jwt))
    if response.status == 404:
        return VerificationResult.failure(
            "invalid_credentials", f"The app has no installation {installation_id}: check the "
                                   "installation ID, or install the app again.")
    if response.status == 403 and not _is_rate_limited(response.headers):
        return VerificationResult.failure(
            "revoked", f"GitHub refuses tokens for installation {installation_id}: the "
                       "installation is probably suspended.")
    if response.status not in (200, 201):
        return failure_of(response, "the installation token request", unauthorized=(
            "GitHub does not accept the app's token: check the App ID and the private key."))
    issued = _json_object(response)
    if issued is None or "token" not in issued:
        return _not_github("the installation token request")
    token_expires_at = _parse_timestamp(issued.get("expires_at"))
    identity = {**identity, "installation_id": installation_id,
                "repository_selection": issued.get("repository_selection"),
                "installation_token_expires_at": _iso(token_expires_at)}
    return VerificationResult.success(identity=identity,
                                      scopes=permission_scopes(issued.get("permissions")))


def failure_of(response, action: str, *, unauthorized: str) -> VerificationResult:
    """The failure a non-success answer means, judged on status and headers."""
    status, headers = response.status, response.headers
    if status in (403, 429) and _is_rate_limited(headers):
        return VerificationResult.failure(
            "rate_limited", "GitHub is rate limiting these credentials: try again later.",
            retry_after=retry_after(headers))
    if status == 403 and headers.get("x-github-sso"):
        match = _SSO_ORG.search(headers["x-github-sso"])
        where = f"the {match.group(1)} organization" if match else "an organization"
        return VerificationResult.failure(
            "insufficient_scope", f"The token must be authorized for SAML single sign-on in "
                                  f"{where}: on GitHub, open the token's settings and use "
                                  "Configure SSO > Authorize.")
    if status == 401:
        return VerificationResult.failure("invalid_credentials", unauthorized)
    if status == 403:
        return VerificationResult.failure(
            "insufficient_scope", f"GitHub refused {action} (HTTP 403): the credentials lack "
                                  "access, or GitHub is blocking them for a while after repeated "
                                  "failed attempts.")
    if 300 <= status < 400:
        return VerificationResult.failure(
            "provider_error", f"GitHub answered {action} with a redirect (HTTP {status}), which "
                              "the hub does not follow; check api_base_url.")
    if status >= 500:
        return VerificationResult.failure(
            "provider_error", f"GitHub answered {action} with a server error (HTTP {status}); "
                              "try again later.")
    return VerificationResult.failure(
        "provider_error", f"GitHub answered {action} with HTTP {status}; check api_base_url "
                          "(GitHub Enterprise Server: https://HOST/api/v3).")


def oauth_scopes(headers) -> list[str] | None:
    """Scopes of a classic or OAuth token; None when the header is absent (fine-grained tokens
    and apps have permissions instead)."""
    value = headers.get("x-oauth-scopes")
    if value is None:
        return None
    return [scope.strip() for scope in value.split(",") if scope.strip()]


def permission_scopes(permissions) -> list[str] | None:
    """An app's permissions as "name:level" scopes, e.g. "contents:read"."""
    if not isinstance(permissions, dict):
        return None
    return sorted(f"{name}:{level}" for name, level in permissions.items())


def token_expiration(headers) -> datetime.datetime | None:
    """GitHub-Authentication-Token-Expiration: "2024-06-01 00:00:00 UTC" or "... +0900"."""
    value = (headers.get("github-authentication-token-expiration") or "").strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S %z"):
        try:
            moment = datetime.datetime.strptime(value, pattern)
        except ValueError:
            continue
        return _as_utc(moment)
    return _parse_timestamp(value)


def _parse_timestamp(value) -> datetime.datetime | None:
    """An ISO 8601 timestamp ("2016-07-11T22:14:10Z"), or None."""
    if not isinstance(value, str):
        return None
    try:
        return _as_utc(datetime.datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def _iso(moment: datetime.datetime | None) -> str | None:
    """`2030-07-11T22:14:10.000Z`, as the hub writes timestamps (identity is stored as JSON)."""
    if moment is None:
        return None
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def _as_utc(moment: datetime.datetime) -> datetime.datetime | None:
    """In UTC; None when it lies beyond the datetimes UTC holds (year 9999 at -14:00)."""
    if moment.tzinfo is None:  # "%Z" parses "UTC" but leaves the datetime naive
        return moment.replace(tzinfo=datetime.timezone.utc)
    try:
        return moment.astimezone(datetime.timezone.utc)
    except OverflowError:
        return None


def _is_rate_limited(headers) -> bool:
    return headers.get("x-ratelimit-remaining") == "0" or bool(headers.get("retry-after"))


def _base_url(config: dict) -> str:
    return (config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")


def _json_object(response) -> dict | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _not_github(action: str) -> VerificationResult:
    return VerificationResult.failure(
        "provider_error", f"The answer to {action} is not a GitHub API answer; check api_base_url "
                          "(GitHub Enterprise Server: https://HOST/api/v3).")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)
