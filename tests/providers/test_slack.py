"""The Slack provider against a fake Slack API on 127.0.0.1 that answers as Slack does."""
import time

import marshmallow
import pytest
from hub_slack import PROVIDER
from hub_slack.schemas import SlackConfig, TokenCredentials, WebhookCredentials

from hub.plugins import declaration_problems
from hub.testing import undocumented_fields, verify_credentials

TOKEN = "xoxb-1111-2222-s3cr3tb0tt0k3n"
AUTH_TEST_OK = {"ok": True, "url": "https://acme.slack.com/", "team": "Acme", "user": "hubbot",
                "team_id": "T123", "user_id": "U123", "bot_id": "B123"}


@pytest.fixture
def config(fake_provider):
    return {"api_base_url": fake_provider.url_for("/api")}


def check_token(config, http, token=TOKEN):
    return verify_credentials(PROVIDER, {"token": token}, config=config, http=http)


def check_webhook(url, http):
    return verify_credentials(PROVIDER, {"webhook_url": url}, auth_type="webhook", http=http)


def assert_failure(result, code):
    assert not result.ok and result.error.code == code, result
    assert "s3cr3t" not in result.error.message  # never the credential
    return result.error


# --- declaration and schemas ------------------------------------------------------------------

def test_declaration_is_valid_and_documented():
    assert declaration_problems(PROVIDER) == []
    assert undocumented_fields(PROVIDER) == []
    assert [m.id for m in PROVIDER.auth_methods] == ["token", "webhook", "oauth"]
    assert PROVIDER.default_auth_method.id == "token"


def test_secret_and_host_fields_are_marked():
    token = TokenCredentials().fields["token"].metadata
    assert token["secret"] and token["ui_hint"] == "password"
    webhook = WebhookCredentials().fields["webhook_url"].metadata
    assert webhook["secret"] and webhook["host"]  # the URL is the secret and chooses the server
    assert SlackConfig().fields["api_base_url"].metadata["host"]


@pytest.mark.parametrize("token", ["xoxb-1-2-abc", "xoxp-1-2-abc", "xapp-1-A1-abc",
                                   "xoxe.xoxb-1-abc", "xoxe.xoxp-1-abc"])
def test_token_prefixes_accepted(token):
    assert TokenCredentials().load({"token": token}) == {"token": token}


def test_token_surrounding_whitespace_is_dropped():
    assert TokenCredentials().load({"token": " xoxb-1-2-abc\n"}) == {"token": "xoxb-1-2-abc"}


@pytest.mark.parametrize("token", ["ghp_abc", "xoxc-1-2", "xoxe-1-abc", "Bearer xoxb-1"])
def test_wrong_token_prefix_names_the_field_and_the_expected_prefixes(token):
    with pytest.raises(marshmallow.ValidationError) as caught:
        TokenCredentials().load({"token": token})
    message = " ".join(caught.value.messages["token"])
    assert all(prefix in message for prefix in ("xoxb-", "xoxp-", "xapp-"))
    assert token not in message


@pytest.mark.parametrize("schema, data", [
    (TokenCredentials, {"token": TOKEN, "team": "T1"}),
    (WebhookCredentials, {"webhook_url": "https://hooks.slack.com/services/T/B/x", "x": 1}),
    (SlackConfig, {"channel": "#general"}),
])
def test_unknown_fields_are_refused(schema, data):
    with pytest.raises(marshmallow.ValidationError) as caught:
        schema().load(data)
    assert "Unknown field." in str(caught.value.messages)


@pytest.mark.parametrize("url", ["ftp://hooks.slack.com/x", "hooks.slack.com/services/T/B/x",
                                 "https://user:pw@hooks.slack.com/services/T/B/x"])
def test_webhook_url_must_be_a_plain_http_url(url):
    with pytest.raises(marshmallow.ValidationError) as caught:
        WebhookCredentials().load({"webhook_url": url})
    assert "webhook_url" in caught.value.messages


def test_config_defaults_to_slack_and_accepts_http_for_allowed_test_servers():
    assert SlackConfig().load({}) == {"api_base_url": "https://slack.com/api"}
    loaded = SlackConfig().load({"api_base_url": "http://127.0.0.1:8080/api",
                                 "default_channel": "#alerts"})
    assert loaded["default_channel"] == "#alerts"


# --- token check ----------------------------------------------------------------------------

def test_bot_token_success(fake_provider, config, egress_client):
    fake_provider.expect_request("/api/auth.test", method="POST").respond_with_json(
        AUTH_TEST_OK, headers={"x-oauth-scopes": "chat:write, channels:read,users:read"})

    result = check_token(config, egress_client)

    assert result.ok and result.error is None
    assert result.identity == {"team": "Acme", "team_id": "T123", "user": "hubbot",
                               "user_id": "U123", "url": "https://acme.slack.com/",
                               "bot_id": "B123"}
    assert result.scopes == ["chat:write", "channels:read", "users:read"]
    request = fake_provider.last_request
    assert request.method == "POST" and request.path == "/api/auth.test"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_user_token_on_enterprise_grid_without_scopes_header(fake_provider, config,
                                                             egress_client):
    answer = {**AUTH_TEST_OK, "enterprise_id": "E123", "is_enterprise_install": False}
    del answer["bot_id"]
    fake_provider.expect_request("/api/auth.test").respond_with_json(answer)

    result = check_token(config, egress_client, token="xoxp-1-2-s3cr3t")

    assert result.ok
    assert "bot_id" not in result.identity and result.identity["enterprise_id"] == "E123"
    assert result.scopes is None


@pytest.mark.parametrize("slack_error, code", [
    ("invalid_auth", "invalid_credentials"),
    ("not_authed", "invalid_credentials"),
    ("token_revoked", "revoked"),
    ("account_inactive", "revoked"),
    ("token_expired", "expired"),
    ("missing_scope", "insufficient_scope"),
])
def test_auth_test_errors(fake_provider, config, egress_client, slack_error, code):
    # Slack reports these with HTTP 200.
    fake_provider.expect_request("/api/auth.test").respond_with_json(
        {"ok": False, "error": slack_error})
    assert_failure(check_token(config, egress_client), code)


def test_an_unknown_slack_error_is_named_but_nothing_else_echoed(fake_provider, config,
                                                                egress_client):
    fake_provider.expect_request("/api/auth.test").respond_with_json(
        {"ok": False, "error": "fatal_error", "detail": "<b>stack trace</b>"})
    error = assert_failure(check_token(config, egress_client), "provider_error")
    assert "fatal_error" in error.message and "stack" not in error.message


def test_rate_limited_with_retry_after(fake_provider, config, egress_client):
    fake_provider.expect_request("/api/auth.test").respond_with_json(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "30"})
    error = assert_failure(check_token(config, egress_client), "rate_limited")
    assert error.retry_after == 30


def test_server_error(fake_provider, config, egress_client):
    fake_provider.expect_request("/api/auth.test").respond_with_data(
        "<html>upstream connect error</html>", status=503)
    error = assert_failure(check_token(config, egress_client), "provider_error")
    assert "503" in error.message and "upstream" not in error.message


def test_an_answer_that_is_not_slacks(fake_provider, config, egress_client):
    fake_provider.expect_request("/api/auth.test").respond_with_data("<html>login</html>")
    error = assert_failure(check_token(config, egress_client), "provider_error")
    assert "api_base_url" in error.message


def test_hang_past_the_timeout(fake_provider, config, egress_client):
    fake_provider.hang("/api/auth.test", method="POST")
    started = time.monotonic()
    assert_failure(check_token(config, egress_client), "timeout")
    assert time.monotonic() - started < egress_client.timeout + 1


def test_redirect_to_the_metadata_address_is_not_followed(fake_provider, config, egress_client):
    fake_provider.redirect("/api/auth.test", "http://169.254.169.254/latest/meta-data/",
                           method="POST")
    error = assert_failure(check_token(config, egress_client), "provider_error")
    assert "redirect" in error.message
    assert len(fake_provider.requests) == 1


def test_api_base_url_on_a_private_address_is_refused(egress_client):
    result = check_token({"api_base_url": "http://10.0.0.5/api"}, egress_client)
    assert_failure(result, "blocked_address")


# --- webhook check --------------------------------------------------------------------------

WEBHOOK_PATH = "/services/T123/B456/s3cr3tw3bh00k"


@pytest.mark.parametrize("answer", ["no_text", "missing_text",
                                    "missing_text_or_fallback_or_attachments"])
def test_live_webhook(fake_provider, egress_client, answer):
    fake_provider.expect_request(WEBHOOK_PATH, method="POST").respond_with_data(
        answer, status=400, content_type="text/plain")

    result = check_webhook(fake_provider.url_for(WEBHOOK_PATH), egress_client)

    assert result.ok, result
    request = fake_provider.last_request
    assert request.method == "POST" and request.get_json() == {}


@pytest.mark.parametrize("status, answer, code", [
    (403, "invalid_token", "invalid_credentials"),
    (404, "no_service", "revoked"),
    (404, "no_team", "revoked"),
    (410, "channel_is_archived", "revoked"),
    (403, "action_prohibited", "insufficient_scope"),
])
def test_dead_webhook(fake_provider, egress_client, status, answer, code):
    fake_provider.expect_request(WEBHOOK_PATH, method="POST").respond_with_data(
        answer, status=status, content_type="text/plain")
    result = check_webhook(fake_provider.url_for(WEBHOOK_PATH), egress_client)
    assert_failure(result, code)


def test_webhook_unrecognised_answer(fake_provider, egress_client):
    fake_provider.expect_request(WEBHOOK_PATH).respond_with_data("<h1>Not Found</h1>",
                                                                 status=404)
    error = assert_failure(check_webhook(fake_provider.url_for(WEBHOOK_PATH), egress_client),
                           "provider_error")
    assert "Not Found" not in error.message and "404" in error.message


def test_webhook_rate_limited(fake_provider, egress_client):
    fake_provider.expect_request(WEBHOOK_PATH).respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "7"})
    error = assert_failure(check_webhook(fake_provider.url_for(WEBHOOK_PATH), egress_client),
                           "rate_limited")
    assert error.retry_after == 7


def test_webhook_server_error(fake_provider, egress_client):
    fake_provider.expect_request(WEBHOOK_PATH).respond_with_data("oops", status=500)
    assert_failure(check_webhook(fake_provider.url_for(WEBHOOK_PATH), egress_client),
                   "provider_error")


def test_webhook_hang(fake_provider, egress_client):
    fake_provider.hang(WEBHOOK_PATH, method="POST")
    started = time.monotonic()
    assert_failure(check_webhook(fake_provider.url_for(WEBHOOK_PATH), egress_client), "timeout")
    assert time.monotonic() - started < egress_client.timeout + 1


def test_webhook_redirect_is_not_followed(fake_provider, egress_client):
    fake_provider.redirect(WEBHOOK_PATH, "http://169.254.169.254/", method="POST")
    assert_failure(check_webhook(fake_provider.url_for(WEBHOOK_PATH), egress_client),
                   "provider_error")
    assert len(fake_provider.requests) == 1


def test_webhook_errors_do_not_reveal_the_url(egress_client):
    # Nothing listens on port 9 of 127.0.0.1 in a test run: the webhook is unreachable.
    result = check_webhook(f"http://127.0.0.1:9{WEBHOOK_PATH}", egress_client)
    error = assert_failure(result, "unreachable")
    assert "s3cr3t" not in error.message and "services" not in error.message


def test_end_to_end_in_a_hub(hub_app_with, fake_provider):
    """The provider inside a whole hub: stored encrypted, checked, never echoed."""
    fake_provider.expect_request("/api/auth.test", method="POST").respond_with_json(
        {"ok": True, "team": "Acme", "team_id": "T1", "user": "bot", "user_id": "U1", "bot_id": "B1"})
    hub = hub_app_with(PROVIDER)
    created = hub.call("POST", f"/v1/projects/{hub.project}/integrations?verify=true", json={
        "name": "alerts", "provider": "slack", "credentials": {"token": "xoxb-e2e-secret"},
        "config": {"api_base_url": fake_provider.url_for("/api")}})
    assert created.status_code == 201, created.json
    assert created.json["last_verification"]["identity"]["team_id"] == "T1"
    assert "xoxb-e2e-secret" not in created.get_data(as_text=True)
    assert [p["name"] for p in hub.call("GET", "/v1/providers").json["items"]] == ["slack"]
