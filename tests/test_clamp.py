"""What a provider answers is cut to documented sizes before it is stored or returned
(hub/verification/clamp.py): a fake GitHub on loopback answers with a 500,000-character login,
20,000 scopes and a 400-digit Retry-After; the dry run's answer and the stored last_verification
both hold the clamped values, on both backends."""
import json
import math

import pytest

from hub.sdk import AuthMethod, Provider, VerificationResult
from hub.sdk.checks import MAX_IDENTITY_LENGTH
from hub.storage.models import Integration
from hub.verification import clamp
from hub.verification.run import run_check

TOKEN = "ghp_" + "a" * 36
HUGE_LOGIN = "L" * 500_000
FOUR_HUNDRED_DIGITS = "9" * 400


@pytest.fixture
def github(httpserver):
    """A fake GitHub API whose GET /user answers as each test sets (`answer`)."""

    def answer(body, status=200, headers=None):
        httpserver.clear()
        httpserver.expect_request("/user", method="GET").respond_with_json(
            body, status=status, headers=headers)

    httpserver.answer = answer
    return httpserver


def _scopes_header(count: int) -> str:
    # Short scopes, so that 20,000 of them fit in one header line (http.client reads 64 KB).
    return ",".join("r" for _ in range(count))


def _dry_run(hub, github):
    return hub.call("POST", "/v1/providers/github:verifyConfig", json={
        "credentials": {"token": TOKEN}, "config": {"api_base_url": github.url_for("").rstrip("/")}})


def _stored(hub, github):
    made = hub.call("POST", "/v1/projects/payments/integrations", json={
        "name": "big", "provider": "github", "credentials": {"token": TOKEN},
        "config": {"api_base_url": github.url_for("").rstrip("/")}})
    assert made.status_code == 201, made.json
    integration = made.json["id"]
    checked = hub.call("POST", f"/v1/projects/payments/integrations/{integration}:verifyConfig")
    assert checked.status_code == 200, checked.json
    record = hub.call("GET", f"/v1/projects/payments/integrations/{integration}").json
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        raw = Integration.select(Integration.last_verification).where(
            Integration.id == integration).tuples().get()
    return checked.json, record["last_verification"], raw


def test_a_huge_identity_and_scope_list_are_clamped_returned_and_stored(hub, github):
    github.answer({"login": HUGE_LOGIN, "id": int(FOUR_HUNDRED_DIGITS), "type": "User",
                   "name": {"nested": ["not", "an", "identity"]}},
                  headers={"X-OAuth-Scopes": _scopes_header(20_000)})

    answered = _dry_run(hub, github)
    assert answered.status_code == 200, answered.json
    checked, stored, raw = _stored(hub, github)

    for result in (answered.json, checked, stored):
        assert result["ok"] is True
        assert result["identity"]["login"] == "L" * MAX_IDENTITY_LENGTH
        assert result["identity"]["id"] == "9" * MAX_IDENTITY_LENGTH  # beyond 2**53: digits
        assert result["identity"]["name"] is None  # an object is no identity value
        assert result["scopes"] == ["r"] * clamp.MAX_SCOPES
    assert stored == checked
    # What the database holds is the clamped record, a few KB (it was 580 KB).
    (text,) = raw
    assert len(text) < 4_000, len(text)
    assert HUGE_LOGIN[:1000] not in text


def test_a_400_digit_retry_after_is_clamped_to_a_day(hub, github):
    github.answer({"message": "API rate limit exceeded"}, status=429,
                  headers={"Retry-After": FOUR_HUNDRED_DIGITS})

    answered = _dry_run(hub, github)
    assert answered.status_code == 200, answered.json
    checked, stored, raw = _stored(hub, github)
    for result in (answered.json, checked, stored):
        assert result["ok"] is False
        assert result["error"]["code"] == "rate_limited"
        assert result["error"]["retry_after"] == clamp.MAX_RETRY_AFTER == 86_400
    assert FOUR_HUNDRED_DIGITS[:50] not in raw[0]


# -- the clamp itself, on every plugin's answer: what run_check makes of a VerificationResult ------

def _provider(verify):
    from marshmallow import Schema, fields

    class Credentials(Schema):
        token = fields.String(required=True)

    return Provider(name="loud", display_name="Loud", description="", version="1",
                    auth_methods=(AuthMethod("token", "Token", Credentials, default=True),),
                    config_schema=Schema, verify=verify, package="hub-loud")


def _check(result):
    return run_check(_provider(lambda *_: result), "token", {"token": "t"}, {}, http=None)


def test_every_plugins_answer_is_clamped():
    identity = {f"key{i}": i for i in range(100)}
    identity = {"k" * 500: "v" * 10_000, **identity}
    result = _check(VerificationResult.failure(
        "rate_limited", "m" * 20_000, retry_after=-5, identity=identity,
        scopes=["s" * 1_000] * 20_000))

    assert len(result["identity"]) == clamp.MAX_IDENTITY_KEYS
    first_key = next(iter(result["identity"]))
    assert first_key == "k" * clamp.MAX_IDENTITY_KEY_LENGTH
    assert result["identity"][first_key] == "v" * MAX_IDENTITY_LENGTH
    assert result["scopes"] == ["s" * clamp.MAX_SCOPE_LENGTH] * clamp.MAX_SCOPES
    assert len(result["error"]["message"]) == clamp.MAX_MESSAGE_LENGTH
    assert result["error"]["message"].endswith("...")
    assert result["error"]["retry_after"] == 0  # never negative
    assert len(json.dumps(result)) < 40_000


@pytest.mark.parametrize("given, kept", [
    (None, None), (0, 0), (120, 120), (86_401, 86_400), (10 ** 400, 86_400), (-1, 0),
    (1.2, 2), (math.inf, 86_400), (math.nan, None), ("30", 30), ("soon", None), (True, None),
])
def test_retry_after_is_whole_seconds_within_a_day(given, kept):
    assert clamp.clamp_retry_after(given) == kept


@pytest.mark.parametrize("value, kept", [
    (True, True), (None, None), (2 ** 53, 2 ** 53), (-(2 ** 53) - 1, str(-(2 ** 53) - 1)),
    (1.5, 1.5), (math.inf, None), (math.nan, None), ([1, 2], None), ({"a": 1}, None),
])
def test_identity_values_are_flat_json_scalars(value, kept):
    result = _check(VerificationResult.success(identity={"v": value}))
    assert result["identity"] == {"v": kept}
    json.dumps(result, allow_nan=False)  # what is stored and returned is strict JSON


def test_a_small_answer_is_kept_as_it_is():
    answer = VerificationResult.success(identity={"login": "ada", "id": 7, "site": None},
                                        scopes=["repo", "read:org"])
    result = _check(answer)
    assert result["identity"] == {"login": "ada", "id": 7, "site": None}
    assert result["scopes"] == ["repo", "read:org"]


def test_the_identity_cut_is_the_declarative_checks():
    assert clamp.MAX_IDENTITY_LENGTH == MAX_IDENTITY_LENGTH == 256
