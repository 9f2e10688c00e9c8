"""Slack's OAuth v2 with token rotation: `oauth.v2.access` answers HTTP 200 even when it refuses
(`{"ok": false, "error": ...}`), scopes are comma-separated, bot scopes go in `scope` and user
scopes (named here with a `user:` prefix) in `user_scope`. The identity check is `auth.test` with
the access token, as for a pasted token."""
from __future__ import annotations

import dataclasses

from hub.sdk import Bearer, OAuth, token_answer
from hub_slack.check import TOKEN_CHECK
from hub_slack.schemas import DEFAULT_API_BASE_URL

USER_SCOPE_PREFIX = "user:"
# Slack answers its own outages HTTP 200 with ok: false too: these spend no refresh token, so the
# connection waits for Slack rather than reads expired for good.
TRANSIENT_ERRORS = ("temporarily_unavailable", "server_error", "internal_error", "fatal_error",
                    "service_unavailable", "request_timeout", "ratelimited")


def scope_params(scopes: tuple[str, ...]) -> dict[str, str]:
    bot = [s for s in scopes if not s.startswith(USER_SCOPE_PREFIX)]
    user = [s.removeprefix(USER_SCOPE_PREFIX) for s in scopes if s.startswith(USER_SCOPE_PREFIX)]
    return {"scope": ",".join(bot), "user_scope": ",".join(user)}


OAUTH = OAuth(
    authorize_url="https://slack.com/oauth/v2/authorize",
    token_url="https://slack.com/api/oauth.v2.access",
    api_base_url=DEFAULT_API_BASE_URL,
    scopes={"chat:write": "Post messages as the app", "channels:read": "List public channels",
            "users:read": "List the workspace's people",
            "user:identity.basic": "The installing user's identity (a user scope)"},
    default_scopes=("chat:write",),
    scope_separator=",",
    scope_params=scope_params,
    client_auth="basic",
    read_token=token_answer(ok_path="ok", scope_separator=",", name="Slack",
                            passing_errors=TRANSIENT_ERRORS, extras={
        "team_id": "team.id", "team_name": "team.name", "bot_user_id": "bot_user_id",
        "app_id": "app_id"}),
)

# auth.test with the OAuth access token; Slack's answers are read as for a pasted token.
OAUTH_CHECK = dataclasses.replace(TOKEN_CHECK, auth=Bearer("access_token"))
