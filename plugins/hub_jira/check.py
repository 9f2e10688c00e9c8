"""The Jira check: `GET /rest/api/3/myself` (Cloud, basic auth with an API token) or
`GET /rest/api/2/myself` (Data Center / Server, personal access token).

Jira answers some failures with an HTML page, so failures are judged on status and headers; the
body is read only on success, and never echoed.
"""
from __future__ import annotations

import base64

from hub.sdk import VerificationResult, retry_after

CAPTCHA_MESSAGE = ("Jira wants a CAPTCHA answered after repeated failed logins: log in to Jira "
                   "once in a browser as this user, then check again.")


def verify(auth_type: str, credentials: dict, config: dict, http) -> VerificationResult:
    # An EgressError from `http` (unreachable, timeout, blocked address) is left to the hub, which
    # turns it into a failed result with its code and message.
    checks = {"basic_auth": check_basic_auth, "pat": check_pat}
    return checks[auth_type](credentials, http)


def check_basic_auth(credentials: dict, http) -> VerificationResult:
    pair = f"{credentials['username']}:{credentials['api_token']}".encode("utf-8")
    authorization = "Basic " + base64.b64encode(pair).decode("ascii")
    return _check_myself(http, credentials["base_url"], "/rest/api/3/myself", authorization,
                         unauthorized="Jira does not accept this email and API token: check both "
                                      "(Jira Cloud needs an API token, not the password).")


def check_pat(credentials: dict, http) -> VerificationResult:
    return _check_myself(http, credentials["base_url"], "/rest/api/2/myself",
                         f"Bearer {credentials['token']}",
                         unauthorized="Jira does not accept this personal access token: it is "
                                      "wrong, revoked or expired (Jira Cloud does not take "
                                      "personal access tokens: use basic auth with an API token).")


def _check_myself(http, base_url: str, path: str, authorization: str, *,
                  unauthorized: str) -> VerificationResult:
    response = http.request("GET", base_url.rstrip("/") + path, headers={
        "Authorization": authorization,
        "Accept": "application/json",
    })
    failure = _failure_of(response, path, unauthorized)
    if failure is not None:
        return failure
    try:
        me = response.json()
    except ValueError:
        me = None
    # A login page served with 200 (an SSO proxy in front of Jira) is no success.
    if not isinstance(me, dict) or not (me.get("accountId") or me.get("name") or me.get("key")):
        return VerificationResult.failure(
            "provider_error", f"The answer to GET {path} is not a Jira user; check the Jira URL "
                              "(and that no single sign-on page stands in front of the API).")
    identity = {key: me[key] for key in ("accountId", "name", "key") if me.get(key)}
    identity["displayName"] = me.get("displayName")
    identity["emailAddress"] = me.get("emailAddress")  # may be null: the user's privacy setting
    return VerificationResult.success(identity=identity)


def _failure_of(response, path: str, unauthorized: str) -> VerificationResult | None:
    status, headers = response.status, response.headers
    # Jira Server/DC sends the CAPTCHA demand with 401 or 403.
    if "CAPTCHA_CHALLENGE" in (headers.get("x-authentication-denied-reason") or "").upper():
        return VerificationResult.failure("invalid_credentials", CAPTCHA_MESSAGE)
    if status == 200:
        return None
    if status == 401:
        return VerificationResult.failure("invalid_credentials", unauthorized)
    if status == 429:
        return VerificationResult.failure("rate_limited", "Jira is rate limiting these "
                                          "credentials: try again later.",
                                          retry_after=retry_after(headers))
    if status == 403:
        return VerificationResult.failure(
            "insufficient_scope", f"Jira refused GET {path} (HTTP 403): the account may not use "
                                  "the REST API, or the token lacks the needed scope.")
    if 300 <= status < 400:
        return VerificationResult.failure(
            "provider_error", f"Jira answered GET {path} with a redirect (HTTP {status}), which "
                              "the hub does not follow; check the Jira URL (https, and the exact "
                              "site address).")
    if status >= 500:
        return VerificationResult.failure(
            "provider_error", f"Jira answered GET {path} with a server error (HTTP {status}); "
                              "try again later.")
    return VerificationResult.failure(
        "provider_error", f"Jira answered GET {path} with HTTP {status}; check the Jira URL.")

