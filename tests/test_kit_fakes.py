"""The testing kit's additions: fake_provider.rate_limit (each header form), .html, .oversized,
and assert_no_echo."""
from __future__ import annotations

import base64
import email.utils
import time

import pytest
from hub_jira import PROVIDER as JIRA

from hub.sdk import VerificationResult, retry_after
from hub.testing import assert_no_echo

SECRET = "kit-s3cr3t-value"


@pytest.mark.parametrize("form, header", [
    ("seconds", "Retry-After"), ("http_date", "Retry-After"), ("epoch", "X-RateLimit-Reset"),
    ("epoch_ms", "X-RateLimit-Reset"), ("reset_after", "X-RateLimit-Reset-After"),
])
def test_rate_limit_in_each_form(fake_provider, egress_client, form, header):
    fake_provider.rate_limit("/limited", form=form, seconds=60)
    answer = egress_client.request("GET", fake_provider.url_for("/limited"))
    assert answer.status == 429 and answer.body == b""
    value = answer.headers[header]
    if form == "http_date":
        assert email.utils.parsedate_to_datetime(value)
    elif form == "epoch_ms":
        assert abs(int(value) / 1000 - (time.time() + 60)) < 5
    elif form == "epoch":
        assert abs(int(value) - (time.time() + 60)) < 5
    else:
        assert value == "60"
    assert 58 <= retry_after(answer.headers) <= 60


def test_rate_limit_with_a_provider_header_a_status_and_a_body(fake_provider, egress_client):
    fake_provider.rate_limit("/graphql", status=400, form="epoch_ms",
                             header="X-RateLimit-Requests-Reset", json={"errors": []},
                             headers={"X-RateLimit-Requests-Remaining": "0"}, method="POST")
    answer = egress_client.request("POST", fake_provider.url_for("/graphql"), json={})
    assert answer.status == 400 and answer.json() == {"errors": []}
    assert int(answer.headers["X-RateLimit-Requests-Reset"]) > time.time() * 1000
    assert answer.headers["X-RateLimit-Requests-Remaining"] == "0"


def test_rate_limit_refuses_an_unknown_form(fake_provider):
    with pytest.raises(ValueError, match="form must be one of"):
        fake_provider.rate_limit("/x", form="minutes")


def test_html(fake_provider, egress_client):
    fake_provider.html("/page", status=401)
    answer = egress_client.request("GET", fake_provider.url_for("/page"))
    assert answer.status == 401 and answer.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        answer.json()


def test_oversized(fake_provider, egress_client):
    fake_provider.oversized("/big")
    answer = egress_client.request("GET", fake_provider.url_for("/big"))
    assert answer.status == 200 and answer.truncated
    with pytest.raises(ValueError):
        answer.json()


def test_assert_no_echo_passes_a_clean_result():
    assert_no_echo(VerificationResult.failure("invalid_credentials", "Bad key."),
                   {"api_key": SECRET, "region": "eu"})
    assert_no_echo(VerificationResult.success(identity={"user": "ada"}), {"api_key": SECRET})


@pytest.mark.parametrize("result", [
    VerificationResult.failure("invalid_credentials", f"The key {SECRET} is wrong."),
    VerificationResult.success(identity={"token": SECRET}),
    VerificationResult.success(scopes=[SECRET]),
    VerificationResult.failure("provider_error",
                               "Sent " + base64.b64encode(SECRET.encode()).decode()),
])
def test_assert_no_echo_fails_naming_the_field_not_the_value(result):
    with pytest.raises(AssertionError) as caught:
        assert_no_echo(result, {"api_key": SECRET})
    assert "'api_key'" in str(caught.value) and SECRET not in str(caught.value)


def test_assert_no_echo_with_a_provider_looks_for_the_secret_fields_only():
    credentials = {"base_url": "https://acme.atlassian.net", "username": "ada@example.com",
                   "api_token": SECRET}
    shown = VerificationResult.success(identity={"emailAddress": "ada@example.com"})
    assert_no_echo(shown, credentials, provider=JIRA)
    with pytest.raises(AssertionError):
        assert_no_echo(shown, credentials)
    with pytest.raises(AssertionError):
        assert_no_echo(VerificationResult.success(identity={"x": SECRET}), credentials,
                       provider=JIRA)
