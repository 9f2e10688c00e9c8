"""The declarative check (hub.sdk.checks): the request it sends, how it reads answers, how a
Provider gets its verify from it, and what is refused at load."""
from __future__ import annotations

import base64
import dataclasses
import datetime
import email.message
import json
import time

import pytest
from marshmallow import Schema, fields

import hub
from hub.egress.client import EgressResponse
from hub.plugins import declaration_problems
from hub.plugins.describe import describe_provider
from hub.sdk import (
    AuthMethod,
    Basic,
    BaseUrl,
    Bearer,
    ErrorRule,
    Expiry,
    Header,
    HttpCheck,
    Identity,
    JsonBody,
    Provider,
    Query,
    RateLimit,
    Scopes,
    VerificationResult,
)
from hub.sdk.checks import build_request, json_values, parse_path, parse_time, read_answer
from hub.testing import assert_no_echo, verify_credentials

SECRET = "s3cr3t-token-0123"


class Token(Schema):
    token = fields.String(required=True, metadata={"secret": True})


class UserPass(Schema):
    base_url = fields.URL(required=True, require_tld=False, metadata={"host": True})
    username = fields.String(required=True)
    password = fields.String(required=True, metadata={"secret": True})


class Config(Schema):
    api_base_url = fields.URL(load_default="https://api.example.test", require_tld=False,
                              metadata={"host": True})


def provider(*checks_or_methods, verify=None, config=Config) -> Provider:
    methods = tuple(item if isinstance(item, AuthMethod) else
                    AuthMethod(f"m{index}", "Method", Token, check=item)
                    for index, item in enumerate(checks_or_methods))
    return Provider(name="decl", display_name="Decl", description="", version="1",
                    auth_methods=methods, config_schema=config, verify=verify)


def response(status=200, json_body=None, *, body=b"", headers=None, truncated=False):
    message = email.message.Message()
    for name, value in (headers or {}).items():
        message[name] = value
    if json_body is not None:
        body = json.dumps(json_body).encode()
    return EgressResponse(status=status, headers=message, body=body, truncated=truncated)


def read(check, answer) -> VerificationResult:
    return read_answer(check, answer, display_name="Decl")


def assert_failure(result, code):
    assert not result.ok and result.error.code == code, result
    return result.error


class Recorder:
    """An HttpClient that records the request and answers with a canned response."""

    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def request(self, method, url, *, headers=None, json=None, data=None):
        self.calls.append({"method": method, "url": url, "headers": headers, "json": json,
                           "data": data})
        return self.answer


# --- the public API -----------------------------------------------------------------------

def test_the_api_is_exported_from_hub_and_hub_sdk():
    for name in ("HttpCheck", "BaseUrl", "Bearer", "Basic", "Header", "Query", "JsonBody",
                 "Identity", "Scopes", "Expiry", "ErrorRule", "RateLimit"):
        assert getattr(hub, name) is getattr(hub.sdk, name)
    assert hub.sdk.checks_verify


# --- the request --------------------------------------------------------------------------

@pytest.mark.parametrize("auth, header", [
    (Bearer("token"), f"Bearer {SECRET}"),
    (Bearer("token", scheme="token"), f"token {SECRET}"),
    (Bearer("token", scheme=""), SECRET),
    (Header("Authorization", "token"), SECRET),
])
def test_authorization_header_placements(auth, header):
    request = build_request(HttpCheck("/me", auth=auth), {"token": SECRET},
                            {"api_base_url": "https://a.test"})
    assert request["headers"]["Authorization"] == header
    assert request["url"] == "https://a.test/me" and request["method"] == "GET"


def test_basic_auth_and_a_base_url_from_the_credentials_with_a_path():
    check = HttpCheck("/rest/me", base_url=BaseUrl(credentials="base_url"),
                      auth=Basic("username", "password"))
    request = build_request(check, {"base_url": "https://jira.corp/jira/", "username": "ada",
                                    "password": SECRET}, {})
    assert request["url"] == "https://jira.corp/jira/rest/me"
    expected = base64.b64encode(f"ada:{SECRET}".encode()).decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"


def test_a_named_header_with_fixed_headers():
    check = HttpCheck("/v1/me", auth=Header("X-Api-Key", "token", prefix="key "),
                      headers={"Accept": "application/json"})
    request = build_request(check, {"token": SECRET}, {"api_base_url": "https://a.test"})
    assert request["headers"] == {"Accept": "application/json", "X-Api-Key": f"key {SECRET}"}


def test_a_query_parameter_is_url_encoded_and_appended():
    check = HttpCheck("/me?fields=id", auth=Query("api key", "token"))
    request = build_request(check, {"token": "a&b=c"}, {"api_base_url": "https://a.test"})
    assert request["url"] == "https://a.test/me?fields=id&api+key=a%26b%3Dc"


def test_a_json_body_gets_the_credentials_and_the_declaration_is_not_changed():
    check = HttpCheck("/graphql", method="post", json={"query": "{ me }", "variables": {"x": 1}},
                      auth=JsonBody({"variables.key": "token", "token": "token"}))
    request = build_request(check, {"token": SECRET}, {"api_base_url": "https://a.test"})
    assert request["method"] == "POST"
    assert request["json"] == {"query": "{ me }", "variables": {"x": 1, "key": SECRET},
                               "token": SECRET}
    assert check.json == {"query": "{ me }", "variables": {"x": 1}}  # a copy was filled
    assert "data" not in request


def test_several_placements_and_a_fixed_data_body():
    check = HttpCheck("/x", method="POST", data=b"", auth=(Bearer("token"), Query("t", "token")))
    request = build_request(check, {"token": "k"}, {"api_base_url": "https://a.test"})
    assert request["data"] == b"" and request["url"].endswith("/x?t=k")


@pytest.mark.parametrize("base, config, url", [
    (BaseUrl(config="api_base_url", default="https://d.test"), {}, "https://d.test/me"),
    (BaseUrl(config="api_base_url", default="https://d.test"), {"api_base_url": "https://c.test/"},
     "https://c.test/me"),
    ("https://fixed.test/api", {"api_base_url": "https://c.test"}, "https://fixed.test/api/me"),
])
def test_where_the_base_url_comes_from(base, config, url):
    assert build_request(HttpCheck("/me", base_url=base), {"token": "k"}, config)["url"] == url


def test_run_through_a_provider_sends_the_request_with_the_given_client():
    check = HttpCheck("/me", identity={"id": "id"})
    http = Recorder(response(200, {"id": 7}))
    result = verify_credentials(provider(check), {"token": SECRET}, http=http)
    assert result.ok and result.identity == {"id": 7}
    assert http.calls[0]["url"] == "https://api.example.test/me"


# --- JSON paths ---------------------------------------------------------------------------

def test_json_paths():
    document = {"data": {"viewer": {"id": "u1"}}, "errors": [{"extensions": {"code": "A"}},
                                                             {"extensions": {"code": "B"}}],
                "status-code": 401}
    assert json_values(document, "data.viewer.id") == ["u1"]
    assert json_values(document, "errors[].extensions.code") == ["A", "B"]
    assert json_values(document, "errors[1].extensions.code") == ["B"]
    assert json_values(document, "errors[5].extensions.code") == []
    assert json_values(document, "status-code") == [401]
    assert json_values(document, "data.nothing.here") == []
    assert json_values(["x"], "a") == []
    assert parse_path("a[0][].b") == ["a", 0, None, "b"]
    for bad in ("", "a..b", "a[x]", ".a", "a b", None):
        with pytest.raises(ValueError):
            parse_path(bad)


# --- reading answers ----------------------------------------------------------------------

SLACKISH = HttpCheck(
    "/auth.test", method="POST", success_path="ok", error_code="error",
    errors=(ErrorRule("invalid_credentials", "Bad token.", path="error", equals="invalid_auth"),
            ErrorRule("revoked", "Revoked.", path="error", equals="token_revoked")),
    identity=Identity({"team": "team", "bot_id": "bot_id"}, omit_empty=("bot_id",)),
    scopes=Scopes(header="x-oauth-scopes"))


def test_success_with_identity_scopes_from_a_header():
    result = read(SLACKISH, response(200, {"ok": True, "team": "Acme"},
                                     headers={"X-OAuth-Scopes": "a, b,,c"}))
    assert result == VerificationResult.success(identity={"team": "Acme"}, scopes=["a", "b", "c"])


@pytest.mark.parametrize("error, code", [("invalid_auth", "invalid_credentials"),
                                         ("token_revoked", "revoked")])
def test_error_rules_on_a_200(error, code):
    assert_failure(read(SLACKISH, response(200, {"ok": False, "error": error})), code)


def test_an_unknown_provider_code_is_named_only_when_it_is_an_identifier():
    error = assert_failure(read(SLACKISH, response(200, {"ok": False, "error": "fatal_error"})),
                           "provider_error")
    assert "(fatal_error)" in error.message
    error = assert_failure(read(SLACKISH, response(200, {"ok": False, "error": "<b>x</b> y"})),
                           "provider_error")
    assert "<b>" not in error.message and "recognise." in error.message


@pytest.mark.parametrize("body", [{"ok": "yes"}, {"team": "x"}, ["ok"]])
def test_a_success_path_that_is_not_a_boolean_is_not_the_providers_api(body):
    error = assert_failure(read(SLACKISH, response(200, body)), "provider_error")
    assert "not what the Decl API answers: check api_base_url, and that no login" in error.message


def test_html_and_truncated_bodies_are_not_the_providers_api():
    assert_failure(read(SLACKISH, response(200, body=b"<html>login</html>")), "provider_error")
    assert_failure(read(SLACKISH, response(200, body=b'{"ok": true', truncated=True)),
                   "provider_error")
    # A check that reads no body succeeds on the status alone.
    assert read(HttpCheck("/ping"), response(200, body=b"<html>")).ok


def test_identity_omit_empty_require_any_and_clamping():
    check = HttpCheck("/me", identity=Identity(
        {"id": "id", "name": "name", "email": "email", "nested": "profile"},
        omit_empty=("id",), require_any=("id",)))
    result = read(check, response(200, {"id": "u", "name": "n" * 1000, "profile": {"a": 1}}))
    assert result.identity == {"id": "u", "name": "n" * 256, "email": None, "nested": None}
    assert_failure(read(check, response(200, {"name": "n"})), "provider_error")
    assert_failure(read(check, response(200, {"id": ""})), "provider_error")


def test_scopes_from_a_json_path_list_or_string():
    listed = HttpCheck("/me", scopes=Scopes(path="scopes"))
    assert read(listed, response(200, {"scopes": ["read", "write"]})).scopes == ["read", "write"]
    spaced = HttpCheck("/me", scopes=Scopes(path="scope", separator=" "))
    assert read(spaced, response(200, {"scope": "read write"})).scopes == ["read", "write"]
    assert read(spaced, response(200, {})).scopes is None


@pytest.mark.parametrize("value, expected", [
    ("2030-06-01 00:00:00 UTC", datetime.datetime(2030, 6, 1, tzinfo=datetime.timezone.utc)),
    ("2030-06-01 09:00:00 +0900", datetime.datetime(2030, 6, 1, tzinfo=datetime.timezone.utc)),
    ("2030-06-01T00:00:00Z", datetime.datetime(2030, 6, 1, tzinfo=datetime.timezone.utc)),
    ("1906416000", datetime.datetime(2030, 5, 31, tzinfo=datetime.timezone.utc)),
    (1906416000000, datetime.datetime(2030, 5, 31, tzinfo=datetime.timezone.utc)),
    ("next tuesday", None), (None, None), (True, None),
    # A provider (or a server posing as one) decides these: no number of digits is an error.
    ("9" * 400, None), ("9" * 5000, None), (10 ** 400, None), (float("nan"), None),
    ("9999-12-31 23:59:59 -1400", None), ("0001-01-01T00:00:00+14:00", None),
])
def test_times(value, expected):
    assert parse_time(value) == expected


def test_expiry_from_a_header_or_a_json_path():
    check = HttpCheck("/me", expires=Expiry(header="Token-Expiration"))
    result = read(check, response(200, headers={"token-expiration": "2030-06-01 00:00:00 UTC"}))
    assert result.expires_at == datetime.datetime(2030, 6, 1, tzinfo=datetime.timezone.utc)
    check = HttpCheck("/me", expires=Expiry(path="token.expires_at"))
    result = read(check, response(200, {"token": {"expires_at": "2030-06-01T00:00:00Z"}}))
    assert result.expires_at.year == 2030
    assert read(check, response(200, {})).expires_at is None


def test_rules_are_tried_in_order_and_all_conditions_must_hold():
    check = HttpCheck("/me", errors=(
        ErrorRule("invalid_credentials", "Captcha.", header="X-Denied", contains="captcha"),
        ErrorRule("insufficient_scope", "Forbidden.", status=(403, 404)),
        ErrorRule("revoked", "Gone.", status=401, path="reason", equals="revoked"),
        ErrorRule("expired", "Expired.", path="errors[].expired")))
    assert read(check, response(403, headers={"x-denied": "CAPTCHA_CHALLENGE"})).error.message \
        == "Captcha."
    assert read(check, response(404)).error.code == "insufficient_scope"
    assert read(check, response(401, {"reason": "revoked"})).error.code == "revoked"
    # 401 with another reason: the built-in 401.
    assert read(check, response(401, {"reason": "other"})).error.code == "invalid_credentials"
    assert read(check, response(400, {"errors": [{}, {"expired": True}]})).error.code == "expired"
    assert read(check, response(400, {"errors": [{"expired": False}]})).error.code == \
        "provider_error"


@pytest.mark.parametrize("status, code, words", [
    (302, "provider_error", "redirect"), (500, "provider_error", "server error (HTTP 500)"),
    (401, "invalid_credentials", "HTTP 401"),
    (404, "provider_error", "HTTP 404; check api_base_url"),
])
def test_the_built_in_answers(status, code, words):
    error = assert_failure(read(HttpCheck("/me"), response(status, body=b"<b>secret page</b>")),
                           code)
    assert words in error.message and "secret page" not in error.message


def test_rate_limits_in_each_header_form():
    now = time.time()
    check = HttpCheck("/me")
    for headers in ({"Retry-After": "30"}, {"X-RateLimit-Reset": str(int(now) + 30)},
                    {"X-RateLimit-Reset": str(int(now * 1000) + 30000)},
                    {"X-RateLimit-Reset-After": "30"},
                    {"Retry-After": email.utils.formatdate(now + 30, usegmt=True)}):
        assert 28 <= read(check, response(429, headers=headers)).error.retry_after <= 30, headers
    assert read(check, response(429)).error.retry_after is None


def test_a_provider_reset_header_and_a_rate_limit_rule():
    now_ms = int(time.time() * 1000)
    check = HttpCheck("/me", rate_limit=RateLimit(status=(429, 420), reset_header="X-Reset"),
                      errors=(ErrorRule("rate_limited", "Slow down.", path="code",
                                        equals="RATELIMITED"),))
    result = read(check, response(400, {"code": "RATELIMITED"},
                                  headers={"X-Reset": str(now_ms + 20000)}))
    assert result.error.message == "Slow down." and 18 <= result.error.retry_after <= 20
    assert read(check, response(420, headers={"Retry-After": "5"})).error.retry_after == 5


def test_messages_never_echo_the_credential_or_the_body():
    check = HttpCheck("/me", identity={"id": "id"})
    http = Recorder(response(503, body=f"<html>{SECRET}</html>".encode()))
    result = verify_credentials(provider(check), {"token": SECRET}, http=http)
    assert_no_echo(result, {"token": SECRET})


# --- Provider.verify made from the checks -------------------------------------------------

def test_a_provider_with_checks_gets_a_verify_and_is_described_as_checkable():
    declared = provider(HttpCheck("/me", headers={"Accept": "application/json"},
                                  identity=Identity({"id": "id"}), auth=JsonBody({"t": "token"})))
    assert hash(declared.auth_methods[0]) == hash(dataclasses.replace(declared.auth_methods[0]))
    assert callable(declared.verify) and declaration_problems(declared) == []
    assert describe_provider(declared)["verify_supported"] is True


def test_a_method_without_a_check_falls_back_to_the_hand_written_verify():
    def verify(auth_type, credentials, config, http):
        return VerificationResult.success(identity={"by": "hand", "method": auth_type})

    mixed = provider(HttpCheck("/me", identity={"id": "id"}),
                     AuthMethod("other", "Other", Token), verify=verify)
    assert declaration_problems(mixed) == []
    http = Recorder(response(200, {"id": 1}))
    assert verify_credentials(mixed, {"token": "k"}, http=http).identity == {"id": 1}
    assert verify_credentials(mixed, {"token": "k"}, auth_type="other", http=http).identity == \
        {"by": "hand", "method": "other"}


def test_replace_keeps_the_checks_and_the_fallback():
    def verify(auth_type, credentials, config, http):
        return VerificationResult.success(identity={"by": "hand"})

    original = provider(HttpCheck("/me"), AuthMethod("other", "Other", Token), verify=verify)
    copied = dataclasses.replace(original, package="hub-decl",
                                 auth_methods=tuple(original.auth_methods))
    assert copied.verify.hub_fallback is verify
    http = Recorder(response(200))
    assert verify_credentials(copied, {"token": "k"}, auth_type="other", http=http).identity == \
        {"by": "hand"}
    # Dropping the checks gives back the hand-written verify.
    plain = dataclasses.replace(original, auth_methods=(AuthMethod("other", "Other", Token),))
    assert plain.verify is verify


def test_an_egress_error_becomes_the_hubs_failure(egress_client):
    result = verify_credentials(provider(HttpCheck("/me")), {"token": SECRET},
                                config={"api_base_url": "http://10.9.8.7"}, http=egress_client)
    assert result.error.code == "blocked_address"


# --- refused at load ----------------------------------------------------------------------

def problems_of(check, schema=Token, config=Config):
    return declaration_problems(provider(AuthMethod("m", "M", schema, check=check),
                                         config=config))


@pytest.mark.parametrize("check, words", [
    (HttpCheck("/me", errors=(ErrorRule("nope", "x", status=401),)), "'nope' is not an error code"),
    (HttpCheck("/me", auth=Bearer("api_key")), "credential field 'api_key'"),
    (HttpCheck("/me", auth=Basic("user", "token"), base_url="https://a.test"),
     "credential field 'user'"),
    (HttpCheck("/me", auth=JsonBody({"k": "missing"})), "credential field 'missing'"),
    (HttpCheck("/me", identity={"id": "data..id"}), "identity['id'] 'data..id' is not a JSON path"),
    (HttpCheck("/me", errors=(ErrorRule("revoked", "x", path="a[b]"),)), "is not a JSON path"),
    (HttpCheck("/me", success_path="ok!"), None),  # "!" is a valid key character: no problem
    (HttpCheck("/me", errors=(ErrorRule("revoked", "x"),)), "has no condition"),
    (HttpCheck("/me", errors=(ErrorRule("revoked", "", status=401),)), "give a message"),
    (HttpCheck("/me", base_url=BaseUrl(config="base")), "config field 'base'"),
    (HttpCheck("/me", base_url=BaseUrl(credentials="base_url")), "credential field 'base_url'"),
    (HttpCheck("/me", base_url="ftp://x"), "base_url must be"),
    (HttpCheck("me"), "path 'me' must be a string starting with '/'"),
    (HttpCheck("/me", method="FETCH"), "method 'FETCH'"),
    (HttpCheck("/me", success_status=(200, 999)), "success_status"),
    (HttpCheck("/me", scopes=Scopes()), "scopes names neither"),
    (HttpCheck("/me", identity=Identity({"id": "id"}, require_any=("login",))), "'login'"),
    (HttpCheck("/me", auth=Header("Bad Header", "token")), "not an HTTP header name"),
    (HttpCheck("/me", json={}, data=b""), "not both"),
    (HttpCheck("/me", auth=()), "places no credential"),
    (HttpCheck("/me", errors=(ErrorRule("revoked", "x", status="401"),)), "status must be"),
    (HttpCheck("/me", json=["x"], auth=JsonBody({"k": "token"})), "JsonBody needs json"),
    ("not a check", "must be a hub.sdk.HttpCheck"),
])
def test_a_malformed_check_is_refused_with_a_sentence(check, words):
    problems = problems_of(check)
    if words is None:
        assert problems == []
    else:
        assert len(problems) == 1 and words in problems[0], problems
        assert problems[0].startswith("auth method 'm': its check: ")


def test_a_method_without_a_check_needs_a_hand_written_verify():
    problems = declaration_problems(provider(HttpCheck("/me"), AuthMethod("other", "Other", Token)))
    assert problems == ["auth method 'other' has no check while others have one: give it "
                        "check=HttpCheck(...), or give the provider a verify function for it"]


def test_the_fallback_verify_is_still_checked():
    problems = declaration_problems(provider(HttpCheck("/me"), verify=lambda a, b: None))
    assert len(problems) == 1 and "cannot be called as verify" in problems[0]


def test_a_malformed_check_is_reported_under_the_plugins_name():
    from hub.plugins import load_providers

    bad = provider(HttpCheck("/me", errors=(ErrorRule("nope", "x", status=401),)))

    class Plugin:
        @hub.hookimpl
        def hub_register_providers(self, register):
            register(bad)

    registry = load_providers(entrypoints=False, extra_plugins=[Plugin()])
    assert registry.names() == []
    [failure] = registry.failures
    assert failure.plugin.endswith("Plugin")  # named as the hub names a plugin's failure
    assert "provider 'decl'" in failure.error and "'nope' is not an error code" in failure.error
