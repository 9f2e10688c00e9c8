"""The Slack checks: `auth.test` for a token (declared: `TOKEN_CHECK`), an empty post for an
incoming webhook (hand-written: `verify_webhook`, whose answers are plain text, not JSON).

Slack reports most failures of `auth.test` in an HTTP 200 body (`{"ok": false, "error": code}`);
its codes are mapped below. Messages name Slack's error code (an identifier, checked to be one)
but never quote anything else Slack sent.
"""
from __future__ import annotations

from hub.sdk import (
    BaseUrl,
    Bearer,
    ErrorRule,
    HttpCheck,
    Identity,
    Scopes,
    VerificationResult,
    retry_after,
)
from hub_slack.schemas import DEFAULT_API_BASE_URL

# auth.test error code -> (verification error code, message)
AUTH_TEST_ERRORS = {
    "invalid_auth": ("invalid_credentials", "Slack does not accept this token: check that it was "
                                            "copied whole, or issue a new one."),
    "not_authed": ("invalid_credentials", "Slack received no token."),
    "token_revoked": ("revoked", "The token was revoked (the app was uninstalled or the token "
                                 "regenerated): reinstall the app or store a new token."),
    "account_inactive": ("revoked", "The token belongs to a user or workspace that was "
                                    "deactivated or deleted."),
    "token_expired": ("expired", "The token expired (the app uses token rotation): refresh it and "
                                 "store the new access token."),
    "missing_scope": ("insufficient_scope", "The token lacks a scope Slack requires here: add it "
                                            "on the app's OAuth & Permissions page and reinstall."),
    "no_permission": ("insufficient_scope", "The token is not granted access to this workspace."),
    "team_access_not_granted": ("insufficient_scope", "The token is not granted access to this "
                                                      "workspace."),
    "ratelimited": ("rate_limited", "Slack is rate limiting the hub: try again later."),
}

# What an incoming webhook answers to an empty post.
LIVE_WEBHOOK_ANSWERS = {"no_text", "missing_text", "missing_text_or_fallback_or_attachments"}
WEBHOOK_ERRORS = {
    # Slack cannot tell a mistyped secret from one it never issued: the URL is not valid.
    "invalid_token": ("invalid_credentials", "Slack does not know this webhook URL: check that it "
                                             "was copied whole, or create a new webhook."),
    # The webhook existed and was switched off: it must be replaced.
    "no_service": ("revoked", "This webhook was disabled or removed in Slack (or its app "
                              "uninstalled): create a new webhook."),
    "no_active_hooks": ("revoked", "This webhook was disabled in Slack: create a new webhook."),
    "no_team": ("revoked", "The webhook's workspace no longer exists or is inactive."),
    "team_disabled": ("revoked", "The webhook's workspace is disabled."),
    "channel_not_found": ("revoked", "The channel this webhook posts to no longer exists: create "
                                     "a new webhook."),
    "channel_is_archived": ("revoked", "The channel this webhook posts to is archived: unarchive "
                                       "it or create a new webhook."),
    "action_prohibited": ("insufficient_scope", "A workspace admin restricts posting to this "
                                                "webhook's channel."),
    "posting_to_general_channel_denied": ("insufficient_scope", "Only admins may post to the "
                                                                "webhook's channel."),
}

# auth.test: POST with the token as a Bearer header and an empty form body.
TOKEN_CHECK = HttpCheck(
    method="POST", path="/auth.test", what="auth.test",
    base_url=BaseUrl(config="api_base_url", default=DEFAULT_API_BASE_URL),
    auth=Bearer("token"),
    headers={"Content-Type": "application/x-www-form-urlencoded"}, data=b"",
    success_path="ok", error_code="error",
    errors=tuple(ErrorRule(code, message, path="error", equals=slack_code)
                 for slack_code, (code, message) in AUTH_TEST_ERRORS.items()),
    identity=Identity({"team": "team", "team_id": "team_id", "user": "user",
                       "user_id": "user_id", "url": "url", "bot_id": "bot_id",
                       "enterprise_id": "enterprise_id"},
                      omit_empty=("bot_id", "enterprise_id")),
    scopes=Scopes(header="x-oauth-scopes"),
)


def verify_webhook(auth_type: str, credentials: dict, config: dict, http) -> VerificationResult:
    """The provider's hand-written check, for the method without a declared one (the webhook).
    An EgressError from `http` is left to the hub, which turns it into a failed result."""
    return check_webhook(credentials, config, http)


def check_webhook(credentials: dict, config: dict, http) -> VerificationResult:
    # Slack has no read-only check for a webhook; an empty message is refused without posting.
    response = http.request("POST", credentials["webhook_url"], json={})
    failure = _http_failure(response, "the webhook")
    if failure is not None:
        return failure
    answer = response.body.decode("utf-8", errors="replace").strip()
    if (response.status == 400 and answer in LIVE_WEBHOOK_ANSWERS) or \
            (response.status == 200 and answer == "ok"):
        return VerificationResult.success()
    if answer in WEBHOOK_ERRORS:
        code, message = WEBHOOK_ERRORS[answer]
        return VerificationResult.failure(code, message)
    return _unexpected(f"The webhook answered HTTP {response.status}, which is not how a Slack "
                       "webhook answers; check the webhook URL.")


def _http_failure(response, what: str) -> VerificationResult | None:
    """Failures that the status alone tells: rate limits, redirects, server errors."""
    if response.status == 429:
        return VerificationResult.failure("rate_limited", "Slack is rate limiting the hub: try "
                                          "again later.", retry_after=retry_after(response.headers))
    if 300 <= response.status < 400:
        return _unexpected(f"Slack answered {what} with a redirect (HTTP {response.status}), "
                           "which the hub does not follow; check the URL.")
    if response.status >= 500:
        return _unexpected(f"Slack answered {what} with a server error (HTTP {response.status}); "
                           "try again later.")
    return None


def _unexpected(message: str) -> VerificationResult:
    return VerificationResult.failure("provider_error", message)

