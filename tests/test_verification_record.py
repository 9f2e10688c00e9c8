"""Recording a check on an integration: a result's expires_at is the stored credential's expiry.

The defect this guards against: a GitHub App check with an installation reported the one-hour
installation token's expiry as the result's, the hub wrote it onto the integration, and the
integration (whose stored credential, the app's private key, does not expire) read `expired` an
hour later.
"""
import datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.integrations.records import effective_status
from hub.storage.models import Integration, utcnow
from hub.verification.record import apply_result

APP = {"id": 12345, "slug": "hub-bot", "name": "Hub Bot", "owner": {"login": "acme"},
       "permissions": {"contents": "read", "metadata": "read"}, "events": [],
       "installations_count": 1}


@pytest.fixture(scope="module")
def app_private_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def read_row(hub, integration_id):
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        return Integration.get_by_id(integration_id)


def test_a_github_app_installation_check_does_not_expire_the_integration(
        hub, fake_provider, app_private_key):
    # The installation token GitHub mints lives one hour, as GitHub's do.
    token_expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_provider.expect_request("/app", method="GET").respond_with_json(APP)
    fake_provider.expect_request("/app/installations/42/access_tokens", method="POST") \
        .respond_with_json({"token": "ghs_s3cr3tInstallationToken", "expires_at": token_expiry,
                            "permissions": {"issues": "write"},
                            "repository_selection": "selected"}, status=201)
    created = hub.call("POST", "/v1/projects/payments/integrations", json={
        "name": "gh-app", "provider": "github", "auth_type": "app",
        "credentials": {"app_id": "12345", "private_key": app_private_key,
                        "installation_id": 42},
        "config": {"api_base_url": fake_provider.base_url}})
    assert created.status_code == 201, created.json
    integration_id = created.json["id"]

    checked = hub.call("POST", f"/v1/projects/payments/integrations/{integration_id}:verifyConfig")

    assert checked.status_code == 200, checked.json
    result = checked.json
    assert result["ok"] is True, result
    assert result["expires_at"] is None
    assert result["identity"]["installation_id"] == 42
    assert result["identity"]["installation_token_expires_at"].startswith(token_expiry[:19])
    assert "s3cr3t" not in checked.get_data(as_text=True)
    assert fake_provider.last_request.path == "/app/installations/42/access_tokens"

    record = hub.call("GET", f"/v1/projects/payments/integrations/{integration_id}").json
    assert record["status"] == "active"
    assert record["expires_at"] is None
    assert record["last_verification"]["ok"] is True

    # An hour later (the installation token long gone) the integration is still active.
    row = read_row(hub, integration_id)
    assert row.expires_at is None and row.expired_reason is None
    assert effective_status(row, now=utcnow() + datetime.timedelta(hours=2)) == "active"


# --- apply_result, rule by rule -----------------------------------------------------------------

def result(ok=True, *, code=None, expires_at=None):
    error = None if ok else {"code": code, "message": "m"}
    return {"ok": ok, "checked_at": "2026-12-01T08:00:00.000Z", "duration_ms": 1,
            "identity": None, "scopes": None, "expires_at": expires_at, "error": error}


def test_a_reported_expiry_is_the_stored_credentials_and_becomes_the_integrations():
    row = Integration(expires_at=None, expired_reason=None)
    apply_result(row, result(expires_at="2030-06-01T00:00:00.000Z"))
    assert row.expires_at == datetime.datetime(2030, 6, 1)
    assert row.last_verification["ok"] is True


def test_a_result_without_an_expiry_leaves_the_integrations_as_it_was():
    set_by_user = datetime.datetime(2031, 1, 1)
    row = Integration(expires_at=set_by_user, expired_reason=None)
    apply_result(row, result())
    assert row.expires_at == set_by_user


@pytest.mark.parametrize("code", ["expired", "revoked"])
def test_an_expired_or_revoked_finding_marks_the_integration(code):
    row = Integration(expires_at=None, expired_reason=None)
    apply_result(row, result(False, code=code))
    assert row.expired_reason == code


@pytest.mark.parametrize("code", ["rate_limited", "timeout", "unreachable", "provider_error"])
def test_other_failures_change_nothing_but_the_last_verification(code):
    row = Integration(expires_at=None, expired_reason="revoked")
    apply_result(row, result(False, code=code))
    assert row.expired_reason == "revoked" and row.expires_at is None
    assert row.last_verification["error"]["code"] == code


def test_a_success_clears_an_earlier_finding():
    row = Integration(expires_at=None, expired_reason="expired")
    apply_result(row, result())
    assert row.expired_reason is None
