"""GitHub App user access tokens: authorize at /login/oauth/authorize (GitHub Apps take no
scope), exchange and refresh at /login/oauth/access_token with `Accept: application/json` (else
the answer is form-encoded). Failures are HTTP 200 with an `error` member. Tokens last 8 hours,
refresh tokens 6 months; a refresh spends both old tokens. Identity: `GET /user`."""
from __future__ import annotations

from hub.sdk import OAuth, token_answer
from hub_github.schemas import DEFAULT_API_BASE_URL

OAUTH = OAuth(
    authorize_url="https://github.com/login/oauth/authorize",
    token_url="https://github.com/login/oauth/access_token",
    api_base_url=DEFAULT_API_BASE_URL,
    scope_param=None,  # a GitHub App's permissions are set on the app, not asked for
    client_auth="form",
    token_headers={"Accept": "application/json"},
    read_token=token_answer(scope_separator=",", name="GitHub"),
)
