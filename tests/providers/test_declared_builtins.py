"""The built-in checks that are declared (Slack's token, Jira's myself) and those that stay
hand-written (Slack's webhook, GitHub), with the answers the kit's fakes make easy."""
import pytest
from hub_github import PROVIDER as GITHUB
from hub_jira import PROVIDER as JIRA
from hub_slack import PROVIDER as SLACK

from hub.sdk import HttpCheck
from hub.testing import assert_no_echo, verify_credentials

TOKEN = "xoxb-1111-2222-s3cr3tb0tt0k3n"


def test_which_checks_are_declared():
    assert isinstance(SLACK.auth_method("token").check, HttpCheck)
    assert SLACK.auth_method("webhook").check is None  # plain-text answers: hand-written
    assert SLACK.verify.hub_fallback is not None
    assert all(isinstance(m.check, HttpCheck) for m in JIRA.auth_methods)
    assert JIRA.verify.hub_fallback is None
    assert all(m.check is None for m in GITHUB.auth_methods)  # the app signs a JWT


def slack(fake_provider, http):
    result = verify_credentials(SLACK, {"token": TOKEN}, http=http,
                                config={"api_base_url": fake_provider.url_for("/api")})
    assert_no_echo(result, {"token": TOKEN})
    return result


@pytest.mark.parametrize("form", ["seconds", "http_date"])
def test_slack_rate_limited_in_each_retry_after_form(fake_provider, egress_client, form):
    fake_provider.rate_limit("/api/auth.test", form=form, seconds=20,
                             json={"ok": False, "error": "ratelimited"})
    error = slack(fake_provider, egress_client).error
    assert error.code == "rate_limited" and 18 <= error.retry_after <= 20


def test_slack_oversized_answer(fake_provider, egress_client):
    fake_provider.oversized("/api/auth.test")
    error = slack(fake_provider, egress_client).error
    assert error.code == "provider_error" and "api_base_url" in error.message


def test_slack_identity_is_clamped(fake_provider, egress_client):
    fake_provider.expect_request("/api/auth.test").respond_with_json(
        {"ok": True, "team": "T" * 10_000, "team_id": "T1", "user": "u", "user_id": "U1",
         "url": "https://acme.slack.com/"})
    result = slack(fake_provider, egress_client)
    assert result.ok and len(result.identity["team"]) == 256


def jira(fake_provider, http):
    credentials = {"base_url": fake_provider.base_url, "username": "ada@example.com",
                   "api_token": "ATATTs3cr3tAPItoken"}
    result = verify_credentials(JIRA, credentials, http=http)
    assert_no_echo(result, credentials, provider=JIRA)
    return result


def test_jira_sso_login_page_with_200(fake_provider, egress_client):
    fake_provider.html("/rest/api/3/myself")
    error = jira(fake_provider, egress_client).error
    assert error.code == "provider_error" and "login page" in error.message
    assert "Sign in" not in error.message


@pytest.mark.parametrize("form", ["epoch", "epoch_ms", "reset_after"])
def test_jira_rate_limited_with_reset_headers(fake_provider, egress_client, form):
    fake_provider.rate_limit("/rest/api/3/myself", form=form, seconds=40)
    error = jira(fake_provider, egress_client).error
    assert error.code == "rate_limited" and 38 <= error.retry_after <= 40
