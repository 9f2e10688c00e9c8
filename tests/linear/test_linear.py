"""The same tests for Linear declared with HttpCheck and Linear written by hand, against a fake
Linear that answers as Linear does: 200 with `data.viewer`; 400 (or 401) with
`errors[].extensions.code` AUTHENTICATION_ERROR; RATELIMITED with `X-RateLimit-Requests-Reset` in
epoch milliseconds."""
import time

import pytest

from hub.plugins import declaration_problems
from hub.testing import assert_no_echo, undocumented_fields, verify_credentials
from linear import handwritten, provider

KEY = "lin_api_s3cr3tK3y0123456789"
VIEWER = {"data": {"viewer": {"id": "2f1e-ada", "name": "Ada Lovelace",
                              "email": "ada@example.com"}}}


def graphql_error(code, message="Authentication required, not authenticated"):
    return {"errors": [{"message": message, "extensions": {"code": code, "type": code.lower(),
                                                            "userPresentableMessage": message}}]}


@pytest.fixture(params=[provider.PROVIDER, handwritten.PROVIDER], ids=["declared", "handwritten"])
def linear(request):
    return request.param


def check(linear, fake_provider, http, key=KEY):
    return verify_credentials(linear, {"api_key": key}, http=http,
                              config={"api_base_url": fake_provider.base_url})


def assert_failure(result, code):
    assert not result.ok and result.error.code == code, result
    assert_no_echo(result, {"api_key": KEY})
    return result.error


def test_the_declared_provider_is_at_most_25_lines():
    with open(provider.__file__) as source:
        assert len(source.readlines()) <= 25


def test_the_declaration_is_valid_and_documented(linear):
    assert declaration_problems(linear) == []
    assert undocumented_fields(linear) == []


def test_a_good_key(linear, fake_provider, egress_client):
    fake_provider.expect_request("/graphql", method="POST").respond_with_json(VIEWER)
    result = check(linear, fake_provider, egress_client)
    assert result.ok, result
    assert result.identity == {"id": "2f1e-ada", "name": "Ada Lovelace",
                               "email": "ada@example.com"}
    assert result.scopes is None and result.expires_at is None
    assert_no_echo(result, {"api_key": KEY})
    request = fake_provider.last_request
    assert request.headers["Authorization"] == KEY  # a personal key goes without "Bearer"
    assert "viewer" in request.get_json()["query"]


def test_identity_values_are_clamped(linear, fake_provider, egress_client):
    fake_provider.expect_request("/graphql").respond_with_json(
        {"data": {"viewer": {"id": "u1", "name": "A" * 5000, "email": None}}})
    result = check(linear, fake_provider, egress_client)
    assert result.ok and len(result.identity["name"]) == 256 and result.identity["email"] is None


@pytest.mark.parametrize("status", [400, 401])
def test_a_bad_key(linear, fake_provider, egress_client, status):
    fake_provider.expect_request("/graphql").respond_with_json(
        graphql_error("AUTHENTICATION_ERROR"), status=status)
    error = assert_failure(check(linear, fake_provider, egress_client), "invalid_credentials")
    assert "Authentication required" not in error.message  # never the provider's body


def test_rate_limited_with_linears_reset_header_in_milliseconds(linear, fake_provider,
                                                                egress_client):
    fake_provider.rate_limit("/graphql", status=400, form="epoch_ms", seconds=45,
                             header="X-RateLimit-Requests-Reset",
                             json=graphql_error("RATELIMITED", "Rate limit exceeded"))
    error = assert_failure(check(linear, fake_provider, egress_client), "rate_limited")
    assert 43 <= error.retry_after <= 45


@pytest.mark.parametrize("form", ["seconds", "http_date", "epoch", "epoch_ms", "reset_after"])
def test_rate_limited_with_a_429_in_each_header_form(linear, fake_provider, egress_client, form):
    fake_provider.rate_limit("/graphql", form=form, seconds=30)
    error = assert_failure(check(linear, fake_provider, egress_client), "rate_limited")
    assert 28 <= error.retry_after <= 30


def test_an_answer_without_a_viewer_is_not_linears(linear, fake_provider, egress_client):
    fake_provider.expect_request("/graphql").respond_with_json({"data": None})
    error = assert_failure(check(linear, fake_provider, egress_client), "provider_error")
    assert "api_base_url" in error.message


def test_an_html_page(linear, fake_provider, egress_client):
    fake_provider.html("/graphql")
    error = assert_failure(check(linear, fake_provider, egress_client), "provider_error")
    assert "Sign in" not in error.message and "api_base_url" in error.message


def test_an_oversized_answer(linear, fake_provider, egress_client):
    fake_provider.oversized("/graphql")
    assert_failure(check(linear, fake_provider, egress_client), "provider_error")


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error(linear, fake_provider, egress_client, status):
    fake_provider.html("/graphql", status=status, body="<html>upstream stack trace</html>")
    error = assert_failure(check(linear, fake_provider, egress_client), "provider_error")
    assert str(status) in error.message and "stack" not in error.message


def test_a_redirect_is_not_followed(linear, fake_provider, egress_client):
    fake_provider.redirect("/graphql", "http://169.254.169.254/", method="POST")
    error = assert_failure(check(linear, fake_provider, egress_client), "provider_error")
    assert "redirect" in error.message and len(fake_provider.requests) == 1


def test_a_server_that_hangs_times_out(linear, fake_provider, egress_client):
    fake_provider.hang("/graphql", method="POST")
    started = time.monotonic()
    assert_failure(check(linear, fake_provider, egress_client), "timeout")
    assert time.monotonic() - started < egress_client.timeout + 1


def test_a_private_address_is_refused(linear, egress_client):
    result = verify_credentials(linear, {"api_key": KEY}, http=egress_client,
                                config={"api_base_url": "http://10.0.0.7"})
    assert_failure(result, "blocked_address")


def test_through_the_hubs_api(linear, hub_app_with, fake_provider):
    fake_provider.expect_request("/graphql", method="POST").respond_with_json(VIEWER)
    hub = hub_app_with(linear)
    created = hub.call("POST", f"/v1/projects/{hub.project}/integrations?verify=true", json={
        "name": "linear", "provider": "linear", "credentials": {"api_key": KEY},
        "config": {"api_base_url": fake_provider.base_url}})
    assert created.status_code == 201, created.json
    assert created.json["last_verification"]["identity"]["id"] == "2f1e-ada"
    assert KEY not in created.get_data(as_text=True)
