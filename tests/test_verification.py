"""run_check: timing, the contract's result shape, and what it makes of a plugin's exceptions.

The thing under test is run_check, not HTTP: the providers here are small fakes and the HTTP client is
an object that answers or raises as each test needs.
"""
import datetime
import logging
import re

import pytest
from marshmallow import Schema, fields

from hub.egress import EgressClient, EgressError
from hub.errors import InvalidInput
from hub.sdk import AuthMethod, Provider, VerificationResult, VerifyError
from hub.services import http_client_from_settings, make_http_client
from hub.verification.run import VerificationNotSupported, run_check

TOKEN = "xoxb-secret-token-123"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class TokenCredentials(Schema):
    token = fields.String(required=True, metadata={"secret": True})


class NoConfig(Schema):
    pass


def make_provider(verify, **overrides):
    declaration = dict(
        name="fake", display_name="Fake", description="", version="1",
        auth_methods=(AuthMethod("token", "Token", TokenCredentials, default=True),
                      AuthMethod("other", "Other", TokenCredentials)),
        config_schema=NoConfig, verify=verify, package="hub-fake")
    declaration.update(overrides)
    return Provider(**declaration)


class FakeHttp:
    """Stands in for the hub's client; `calls` records what the check asked for."""

    def __init__(self, raises=None):
        self.raises = raises
        self.calls = []

    def request(self, method, url, *, headers=None, json=None, data=None):
        self.calls.append((method, url, headers))
        if self.raises:
            raise self.raises
        return None


def test_success_is_shaped_as_the_contract():
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    seen = {}

    def verify(auth_type, credentials, config, http):
        seen.update(auth_type=auth_type, credentials=credentials, config=config, http=http)
        return VerificationResult.success(identity={"user": "ada"}, scopes=["read"],
                                          expires_at=expires)

    http = FakeHttp()
    result = run_check(make_provider(verify), "token", {"token": TOKEN}, None, http)

    assert list(result) == ["ok", "checked_at", "duration_ms", "identity", "scopes", "expires_at",
                            "error"]
    assert result["ok"] is True
    assert ISO_Z.match(result["checked_at"])
    assert isinstance(result["duration_ms"], int) and result["duration_ms"] >= 0
    assert result["identity"] == {"user": "ada"}
    assert result["scopes"] == ["read"]
    assert result["expires_at"] == "2030-01-02T03:04:05.000Z"
    assert result["error"] is None
    assert seen == {"auth_type": "token", "credentials": {"token": TOKEN}, "config": {},
                    "http": http}


def test_duration_is_measured():
    import time

    def verify(auth_type, credentials, config, http):
        time.sleep(0.05)
        return VerificationResult.success()

    result = run_check(make_provider(verify), "token", {"token": TOKEN}, {}, FakeHttp())
    assert 50 <= result["duration_ms"] < 5000


def test_no_auth_type_means_the_default_method():
    seen = []
    provider = make_provider(lambda a, c, cfg, h: seen.append(a) or VerificationResult.success())
    run_check(provider, None, {"token": TOKEN}, {}, FakeHttp())
    assert seen == ["token"]


def test_an_unknown_auth_type_is_invalid_input_naming_the_known_ones():
    provider = make_provider(lambda *args: VerificationResult.success())
    with pytest.raises(InvalidInput) as raised:
        run_check(provider, "oauth", {"token": TOKEN}, {}, FakeHttp())
    assert "token, other" in raised.value.detail
    assert list(raised.value.errors) == ["auth_type"]


def test_a_failure_keeps_its_code_message_and_retry_after():
    def verify(auth_type, credentials, config, http):
        return VerificationResult.failure("rate_limited", "slow down", retry_after=30)

    result = run_check(make_provider(verify), "token", {"token": TOKEN}, {}, FakeHttp())
    assert result["ok"] is False
    assert result["error"] == {"code": "rate_limited", "message": "slow down", "retry_after": 30}


def test_retry_after_is_left_out_when_not_given():
    def verify(auth_type, credentials, config, http):
        return VerificationResult.failure("invalid_credentials", "bad token")

    result = run_check(make_provider(verify), "token", {"token": TOKEN}, {}, FakeHttp())
    assert result["error"] == {"code": "invalid_credentials", "message": "bad token"}


def test_an_error_code_outside_the_contract_becomes_provider_error():
    def verify(auth_type, credentials, config, http):
        return VerificationResult(ok=False, error=VerifyError("made_up", "odd"))

    result = run_check(make_provider(verify), "token", {"token": TOKEN}, {}, FakeHttp())
    assert result["error"]["code"] == "provider_error"


def test_a_failure_without_an_error_becomes_provider_error():
    result = run_check(make_provider(lambda *a: VerificationResult(ok=False)), "token",
                       {"token": TOKEN}, {}, FakeHttp())
    assert result["ok"] is False
    assert result["error"]["code"] == "provider_error"


def test_a_naive_expiry_is_taken_as_utc():
    naive = datetime.datetime(2030, 1, 1, 12, 0, 0)
    result = run_check(make_provider(lambda *a: VerificationResult.success(expires_at=naive)),
                       "token", {"token": TOKEN}, {}, FakeHttp())
    assert result["expires_at"] == "2030-01-01T12:00:00.000Z"


def test_an_egress_error_becomes_a_failure_with_its_code():
    def verify(auth_type, credentials, config, http):
        http.request("GET", "https://10.0.0.1/whoami", headers={"Authorization": f"Bearer {TOKEN}"})

    error = EgressError("blocked_address", "10.0.0.1 is a private address")
    result = run_check(make_provider(verify), "token", {"token": TOKEN}, {}, FakeHttp(raises=error))
    assert result["ok"] is False
    assert result["error"] == {"code": "blocked_address",
                               "message": "10.0.0.1 is a private address"}


def test_a_plugin_exception_becomes_provider_error_without_its_text(caplog):
    def verify(auth_type, credentials, config, http):
        raise ValueError(f"could not parse answer for token {credentials['token']}")

    with caplog.at_level(logging.DEBUG, logger="hub.verification.run"):
        result = run_check(make_provider(verify), "token", {"token": TOKEN}, {}, FakeHttp())

    assert result["ok"] is False
    assert result["error"]["code"] == "provider_error"
    assert "'fake'" in result["error"]["message"]
    assert TOKEN not in str(result)
    assert "ValueError" in caplog.text and "'fake'" in caplog.text
    assert TOKEN not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)


def test_a_plugin_returning_something_else_becomes_provider_error(caplog):
    result = run_check(make_provider(lambda *a: {"ok": True}), "token", {"token": TOKEN}, {},
                       FakeHttp())
    assert result["error"]["code"] == "provider_error"
    assert "dict" in caplog.text


def test_a_provider_without_verify_cannot_be_checked():
    with pytest.raises(VerificationNotSupported) as raised:
        run_check(make_provider(None), "token", {"token": TOKEN}, {}, FakeHttp())
    assert isinstance(raised.value, InvalidInput)  # a 400 in the API
    assert "'fake'" in raised.value.detail


def test_make_http_client_applies_the_settings():
    client = make_http_client("3", "127.0.0.1, fake.test")
    assert isinstance(client, EgressClient)
    assert client.timeout == 3.0
    assert client.allow.allows_name("fake.test")

    default = http_client_from_settings({})
    assert default.timeout == 10.0
    assert not default.allow
    parsed = http_client_from_settings({"VERIFY_TIMEOUT": 2.5, "VERIFY_ALLOW_HOSTS": ["fake.test"]})
    assert parsed.timeout == 2.5 and parsed.allow.allows_name("fake.test")


def whoami_check(auth_type, credentials, config, http):
    response = http.request("GET", f"{config['api_base_url']}/whoami",
                            headers={"Authorization": f"Bearer {credentials['token']}"})
    return VerificationResult.success(identity=response.json())


def test_the_real_client_refuses_a_private_address_before_connecting():
    http = make_http_client(1, "")
    result = run_check(make_provider(whoami_check), "token", {"token": TOKEN},
                       {"api_base_url": "https://10.0.0.1"}, http)
    assert result["ok"] is False
    assert result["error"]["code"] == "blocked_address"
    assert TOKEN not in str(result)


def test_a_check_never_outlasts_its_deadline(fake_provider):
    fake_provider.hang("/whoami")
    http = make_http_client(0.3, "127.0.0.1")
    result = run_check(make_provider(whoami_check), "token", {"token": TOKEN},
                       {"api_base_url": fake_provider.base_url}, http)
    assert result["error"]["code"] == "timeout"  # the fake never answers: returning at all is the point


@pytest.mark.parametrize("result", [
    VerificationResult(ok=True, expires_at="2030-01-01"),
    VerificationResult(ok=True, identity={"at": datetime.datetime(2030, 1, 1)}),
    VerificationResult(ok=True, identity=["not", "a", "mapping"]),
])
def test_a_malformed_result_is_contained_as_provider_error(result):
    provider = Provider(name="odd", display_name="Odd", description="", version="1",
                        auth_methods=(AuthMethod(id="key", display_name="Key",
                                                 credentials_schema=Schema),),
                        config_schema=Schema, verify=lambda *args: result)
    outcome = run_check(provider, None, {}, {}, http=None)
    assert outcome["ok"] is False and outcome["error"]["code"] == "provider_error"
