"""The Jira checks, declared: `GET /rest/api/3/myself` (Cloud, basic auth with an API token) and
`GET /rest/api/2/myself` (Data Center / Server, personal access token).

Jira answers some failures with an HTML page, so failures are judged on status and headers; the
body is read only on success, and never echoed.
"""
from __future__ import annotations

from hub.sdk import BaseUrl, Basic, Bearer, ErrorRule, HttpCheck, Identity

CAPTCHA_MESSAGE = ("Jira wants a CAPTCHA answered after repeated failed logins: log in to Jira "
                   "once in a browser as this user, then check again.")

# Cloud users are identified by accountId, Data Center users by name and key; a 200 answer with
# none of them (an SSO login page in front of the API) is no success.
IDENTITY = Identity({"accountId": "accountId", "name": "name", "key": "key",
                     "displayName": "displayName",
                     "emailAddress": "emailAddress"},  # may be null: the user's privacy setting
                    omit_empty=("accountId", "name", "key"),
                    require_any=("accountId", "name", "key"))


def myself_check(path: str, auth, *, unauthorized: str) -> HttpCheck:
    return HttpCheck(
        path=path, base_url=BaseUrl(credentials="base_url"), auth=auth,
        headers={"Accept": "application/json"},
        identity=IDENTITY,
        errors=(
            # Jira Server/DC sends the CAPTCHA demand with 401 or 403.
            ErrorRule("invalid_credentials", CAPTCHA_MESSAGE,
                      header="X-Authentication-Denied-Reason", contains="CAPTCHA_CHALLENGE"),
            ErrorRule("invalid_credentials", unauthorized, status=401),
            ErrorRule("rate_limited", "Jira is rate limiting these credentials: try again later.",
                      status=429),
            ErrorRule("insufficient_scope", f"Jira refused GET {path} (HTTP 403): the account may "
                                            "not use the REST API, or the token lacks the needed "
                                            "scope.", status=403),
        ),
    )


BASIC_AUTH_CHECK = myself_check(
    "/rest/api/3/myself", Basic("username", "api_token"),
    unauthorized="Jira does not accept this email and API token: check both (Jira Cloud needs "
                 "an API token, not the password).")

PAT_CHECK = myself_check(
    "/rest/api/2/myself", Bearer("token"),
    unauthorized="Jira does not accept this personal access token: it is wrong, revoked or "
                 "expired (Jira Cloud does not take personal access tokens: use basic auth with "
                 "an API token).")
