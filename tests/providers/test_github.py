"""The GitHub provider against a fake GitHub API on 127.0.0.1 that answers as GitHub does."""
import datetime
import time

import jwt
import marshmallow
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hub_github import PROVIDER
from hub_github.check import token_expiration
from hub_github.schemas import AppCredentials, GitHubConfig, PatCredentials

from hub.plugins import declaration_problems
from hub.testing import undocumented_fields, verify_credentials

TOKEN = "ghp_s3cr3tT0k3nABCDEFGHIJKLMNOPQRSTUVWX"
USER = {"login": "octocat", "id": 1, "type": "User", "name": "The Octocat",
        "site_admin": False}
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def app_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.public_key()


@pytest.fixture
def config(fake_provider):
    return {"api_base_url": fake_provider.base_url}


def check_token(config, http, token=TOKEN):
    return verify_credentials(PROVIDER, {"token": token}, config=config, http=http)


def check_app(config, http, pem, **extra):
    return verify_credentials(PROVIDER, {"app_id": "12345", "private_key": pem, **extra},
                              auth_type="app", config=config, http=http)


def assert_failure(result, code):
    assert not result.ok and result.error.code == code, result
    assert "s3cr3t" not in result.error.message and "BEGIN" not in result.error.message
    return result.error


def assert_github_request_shape(request, method, path, bearer=None):
    assert request.method == method and request.path == path
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert request.headers["User-Agent"]
    if bearer is not None:
        assert request.headers["Authorization"] == f"Bearer {bearer}"


# --- declaration and schemas ------------------------------------------------------------------

def test_declaration_is_valid_and_documented():
    assert declaration_problems(PROVIDER) == []
    assert undocumented_fields(PROVIDER) == []
    assert [m.id for m in PROVIDER.auth_methods] == ["pat", "app", "oauth"]
    assert PROVIDER.default_auth_method.id == "pat"
    assert PatCredentials().fields["token"].metadata["secret"]
    assert AppCredentials().fields["private_key"].metadata["secret"]
    assert GitHubConfig().fields["api_base_url"].metadata["host"]


@pytest.mark.parametrize("token", ["ghp_abc", "github_pat_11AB_cd", "gho_x", "ghu_x", "ghs_x",
                                   "ghp_" + "a" * 251])
def test_token_prefixes_accepted_and_lengths_not_checked(token):
    assert PatCredentials().load({"token": token}) == {"token": token}


@pytest.mark.parametrize("token", ["xoxb-1-2", "ghr_refresh", "GHP_abc", "token ghp_abc"])
def test_wrong_token_prefix_names_the_field_and_the_expected_prefixes(token):
    with pytest.raises(marshmallow.ValidationError) as caught:
        PatCredentials().load({"token": token})
    message = " ".join(caught.value.messages["token"])
    assert all(p in message for p in ("ghp_", "github_pat_", "gho_", "ghu_", "ghs_"))


def test_token_longer_than_255_characters_is_refused():
    with pytest.raises(marshmallow.ValidationError) as caught:
        PatCredentials().load({"token": "ghp_" + "a" * 252})
    assert "255" in " ".join(caught.value.messages["token"])


@pytest.mark.parametrize("schema, data", [
    (PatCredentials, {"token": "ghp_abc", "scopes": "repo"}),
    (AppCredentials, {"app_id": "1", "private_key": "x", "client_secret": "y"}),
    (GitHubConfig, {"base_url": "https://api.github.com"}),
])
def test_unknown_fields_are_refused(schema, data):
    with pytest.raises(marshmallow.ValidationError) as caught:
        schema().load(data)
    assert "Unknown field." in str(caught.value.messages)


def test_app_schema_normalises_ids(app_key):
    loaded = AppCredentials().load({"app_id": 12345, "private_key": app_key[0],
                                    "installation_id": "42"})
    assert loaded["app_id"] == "12345" and loaded["installation_id"] == 42


def test_app_private_key_must_be_an_rsa_pem_and_is_never_quoted():
    for not_a_key in ("-----BEGIN RSA PRIVATE KEY-----\nMIIEs3cr3t\n-----END RSA PRIVATE KEY-----",
                      ec.generate_private_key(ec.SECP256R1()).private_bytes(
                          serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()).decode()):
        with pytest.raises(marshmallow.ValidationError) as caught:
            AppCredentials().load({"app_id": "1", "private_key": not_a_key})
        message = " ".join(caught.value.messages["private_key"])
        assert "PEM" in message or "RSA" in message
        assert "MII" not in message and "s3cr3t" not in message


def test_config_defaults_to_github_com():
    assert GitHubConfig().load({}) == {"api_base_url": "https://api.github.com"}
    with pytest.raises(marshmallow.ValidationError):
        GitHubConfig().load({"org": "not an org!"})


@pytest.mark.parametrize("header, expected", [
    ("2024-06-01 00:00:00 UTC", datetime.datetime(2024, 6, 1, tzinfo=UTC)),
    ("2024-06-01 09:00:00 +0900", datetime.datetime(2024, 6, 1, tzinfo=UTC)),
    ("2024-05-31 17:00:00 -0700", datetime.datetime(2024, 6, 1, tzinfo=UTC)),
    ("2024-06-01T00:00:00Z", datetime.datetime(2024, 6, 1, tzinfo=UTC)),
    ("next tuesday", None),
    # Beyond what a datetime holds once in UTC: no expiry, not an error that fails the check.
    ("9999-12-31 23:59:59 -1400", None), ("0001-01-01 00:00:00 +1400", None),
    ("9999-12-31T23:59:59-14:00", None),
])
def test_token_expiration_header_forms(header, expected):
    assert token_expiration({"github-authentication-token-expiration": header}) == expected


# --- personal access token ------------------------------------------------------------------

def test_classic_token_success(fake_provider, config, egress_client):
    fake_provider.expect_request("/user", method="GET").respond_with_json(USER, headers={
        "X-OAuth-Scopes": "repo, read:org", "X-RateLimit-Remaining": "4999",
        "GitHub-Authentication-Token-Expiration": "2030-06-01 00:00:00 UTC"})

    result = check_token(config, egress_client)

    assert result.ok, result
    assert result.identity == {"login": "octocat", "id": 1, "type": "User",
                               "name": "The Octocat"}
    assert result.scopes == ["repo", "read:org"]
    assert result.expires_at == datetime.datetime(2030, 6, 1, tzinfo=UTC)
    assert_github_request_shape(fake_provider.last_request, "GET", "/user", bearer=TOKEN)


def test_fine_grained_token_has_no_scopes(fake_provider, config, egress_client):
    fake_provider.expect_request("/user").respond_with_json(USER, headers={
        "X-Accepted-GitHub-Permissions": "", "GitHub-Authentication-Token-Expiration":
        "2030-06-01 09:00:00 +0900"})

    result = check_token(config, egress_client, token="github_pat_11ABs3cr3t")

    assert result.ok and result.scopes is None
    assert result.expires_at == datetime.datetime(2030, 6, 1, tzinfo=UTC)


def test_classic_token_without_scopes_has_an_empty_list(fake_provider, config, egress_client):
    fake_provider.expect_request("/user").respond_with_json(USER, headers={"X-OAuth-Scopes": ""})
    assert check_token(config, egress_client).scopes == []


def test_enterprise_server_base_url_with_a_path(fake_provider, egress_client):
    fake_provider.expect_request("/api/v3/user").respond_with_json(USER)
    result = check_token({"api_base_url": fake_provider.url_for("/api/v3/")}, egress_client)
    assert result.ok
    assert fake_provider.last_request.path == "/api/v3/user"


BAD_CREDENTIALS = {"message": "Bad credentials",
                   "documentation_url": "https://docs.github.com/rest"}


def test_bad_token(fake_provider, config, egress_client):
    fake_provider.expect_request("/user").respond_with_json(BAD_CREDENTIALS, status=401)
    error = assert_failure(check_token(config, egress_client), "invalid_credentials")
    assert "Bad credentials" not in error.message


def test_expired_token(fake_provider, config, egress_client):
    # GitHub answers an expired token with the same 401; the expiry header tells them apart.
    fake_provider.expect_request("/user").respond_with_json(BAD_CREDENTIALS, status=401, headers={
        "GitHub-Authentication-Token-Expiration": "2020-01-01 00:00:00 UTC"})
    result = check_token(config, egress_client)
    assert_failure(result, "expired")
    assert result.expires_at == datetime.datetime(2020, 1, 1, tzinfo=UTC)


def test_token_not_authorized_for_saml_sso(fake_provider, config, egress_client):
    fake_provider.expect_request("/user").respond_with_json(
        {"message": "Resource protected by organization SAML enforcement."}, status=403,
        headers={"X-GitHub-SSO": "required; url=https://github.com/orgs/acme/sso?"
                                 "authorization_request=AbCdEf123"})
    error = assert_failure(check_token(config, egress_client), "insufficient_scope")
    assert "SAML" in error.message and "acme" in error.message
    assert "AbCdEf123" not in error.message


def test_primary_rate_limit(fake_provider, config, egress_client):
    reset = int(time.time()) + 120
    fake_provider.expect_request("/user").respond_with_json(
        {"message": "API rate limit exceeded"}, status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    error = assert_failure(check_token(config, egress_client), "rate_limited")
    assert 115 <= error.retry_after <= 121


@pytest.mark.parametrize("status", [403, 429])
def test_rate_limit_with_retry_after(fake_provider, config, egress_client, status):
    fake_provider.expect_request("/user").respond_with_json(
        {"message": "You have exceeded a secondary rate limit."}, status=status,
        headers={"Retry-After": "60"})
    error = assert_failure(check_token(config, egress_client), "rate_limited")
    assert error.retry_after == 60


def test_forbidden(fake_provider, config, egress_client):
    fake_provider.expect_request("/user").respond_with_json(
        {"message": "Resource not accessible by integration"}, status=403)
    error = assert_failure(check_token(config, egress_client), "insufficient_scope")
    assert "integration" not in error.message


@pytest.mark.parametrize("status", [500, 502, 404])
def test_server_error_or_wrong_base_url(fake_provider, config, egress_client, status):
    fake_provider.expect_request("/user").respond_with_data("<html>unicorn</html>", status=status)
    error = assert_failure(check_token(config, egress_client), "provider_error")
    assert str(status) in error.message and "unicorn" not in error.message


def test_hang_past_the_timeout(fake_provider, config, egress_client):
    fake_provider.hang("/user")
    started = time.monotonic()
    assert_failure(check_token(config, egress_client), "timeout")
    assert time.monotonic() - started < egress_client.timeout + 1


def test_redirect_to_the_metadata_address_is_not_followed(fake_provider, config, egress_client):
    fake_provider.redirect("/user", "http://169.254.169.254/latest/meta-data/", status=301)
    error = assert_failure(check_token(config, egress_client), "provider_error")
    assert "redirect" in error.message
    assert len(fake_provider.requests) == 1


def test_api_base_url_on_the_metadata_address_is_refused(egress_client):
    assert_failure(check_token({"api_base_url": "http://169.254.169.254/"}, egress_client),
                   "blocked_address")


# --- GitHub App -------------------------------------------------------------------------------

APP = {"id": 12345, "slug": "hub-bot", "name": "Hub Bot", "owner": {"login": "acme"},
       "permissions": {"contents": "read", "metadata": "read"}, "events": [],
       "installations_count": 1}


def decode_app_jwt(request, public_key):
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    return jwt.decode(token, public_key, algorithms=["RS256"],
                      options={"verify_iat": False, "verify_exp": True})


def test_app_success(fake_provider, config, egress_client, app_key):
    pem, public_key = app_key
    fake_provider.expect_request("/app", method="GET").respond_with_json(APP)

    before = int(time.time())
    result = check_app(config, egress_client, pem)

    assert result.ok, result
    assert result.identity == {"id": 12345, "slug": "hub-bot", "name": "Hub Bot",
                               "owner": "acme"}
    assert result.scopes == ["contents:read", "metadata:read"]
    assert result.expires_at is None
    request = fake_provider.last_request
    assert_github_request_shape(request, "GET", "/app")
    claims = decode_app_jwt(request, public_key)
    assert claims["iss"] == "12345"
    assert before - 61 <= claims["iat"] <= before - 59  # back-dated a minute
    assert claims["exp"] - claims["iat"] <= 600  # at most ten minutes


def test_app_with_installation_gets_a_token(fake_provider, config, egress_client, app_key):
    pem, public_key = app_key
    fake_provider.expect_request("/app").respond_with_json(APP)
    fake_provider.expect_request("/app/installations/42/access_tokens", method="POST") \
        .respond_with_json({"token": "ghs_s3cr3tInstallationToken",
                            "expires_at": "2030-07-11T22:14:10Z",
                            "permissions": {"issues": "write"},
                            "repository_selection": "selected"}, status=201)

    result = check_app(config, egress_client, pem, installation_id=42)

    assert result.ok, result
    # The one-hour installation token's expiry is not the stored key's: it is told in the
    # identity, never as the result's expires_at (which would become the integration's).
    assert result.expires_at is None
    assert result.identity["installation_token_expires_at"] == "2030-07-11T22:14:10.000Z"
    assert result.scopes == ["issues:write"]
    assert result.identity["installation_id"] == 42
    assert "s3cr3t" not in repr(result)  # the installation token is dropped
    request = fake_provider.last_request
    assert_github_request_shape(request, "POST", "/app/installations/42/access_tokens")
    assert decode_app_jwt(request, public_key)["iss"] == "12345"


def test_app_jwt_issuer_can_be_a_client_id(fake_provider, config, egress_client, app_key):
    pem, public_key = app_key
    fake_provider.expect_request("/app").respond_with_json(APP)
    credentials = {"app_id": "Iv1.8a61f9b3a7aba766", "private_key": pem}
    result = verify_credentials(PROVIDER, credentials, auth_type="app", config=config,
                                http=egress_client)
    assert result.ok
    assert decode_app_jwt(fake_provider.last_request, public_key)["iss"] == "Iv1.8a61f9b3a7aba766"


def test_app_key_not_accepted(fake_provider, config, egress_client, app_key):
    fake_provider.expect_request("/app").respond_with_json(
        {"message": "A JSON web token could not be decoded"}, status=401)
    error = assert_failure(check_app(config, egress_client, app_key[0]), "invalid_credentials")
    assert "clock" in error.message


def test_app_unknown_installation(fake_provider, config, egress_client, app_key):
    fake_provider.expect_request("/app").respond_with_json(APP)
    fake_provider.expect_request("/app/installations/7/access_tokens", method="POST") \
        .respond_with_json({"message": "Not Found"}, status=404)
    error = assert_failure(check_app(config, egress_client, app_key[0], installation_id=7),
                           "invalid_credentials")
    assert "7" in error.message


def test_app_suspended_installation(fake_provider, config, egress_client, app_key):
    fake_provider.expect_request("/app").respond_with_json(APP)
    fake_provider.expect_request("/app/installations/7/access_tokens", method="POST") \
        .respond_with_json({"message": "This installation has been suspended"}, status=403)
    assert_failure(check_app(config, egress_client, app_key[0], installation_id=7), "revoked")


def test_app_rate_limited(fake_provider, config, egress_client, app_key):
    fake_provider.expect_request("/app").respond_with_json(
        {"message": "rate limit"}, status=429, headers={"Retry-After": "5"})
    assert assert_failure(check_app(config, egress_client, app_key[0]),
                          "rate_limited").retry_after == 5


def test_app_with_a_broken_stored_key_fails_cleanly(config, egress_client):
    # verify() may get stored credentials that no longer pass today's schema.
    result = PROVIDER.verify("app", {"app_id": "1", "private_key": "-----BEGIN s3cr3t"},
                             config, egress_client)
    assert_failure(result, "invalid_credentials")


def test_end_to_end_in_a_hub(hub_app_with, fake_provider):
    """A token with an expiry header: the integration takes the token's expires_at."""
    fake_provider.expect_request("/user").respond_with_json(
        {"login": "octocat", "id": 1, "type": "User", "name": "Mona"},
        headers={"X-OAuth-Scopes": "repo, read:org",
                 "GitHub-Authentication-Token-Expiration": "2099-06-01 00:00:00 UTC"})
    hub = hub_app_with(PROVIDER)
    created = hub.call("POST", f"/v1/projects/{hub.project}/integrations?verify=true", json={
        "name": "gh", "provider": "github", "credentials": {"token": "ghp_e2eSecretToken"},
        "config": {"api_base_url": fake_provider.url_for("").rstrip("/")}})
    assert created.status_code == 201, created.json
    assert created.json["expires_at"].startswith("2099-06-01T00:00:00")
    assert created.json["last_verification"]["scopes"] == ["repo", "read:org"]
    assert "ghp_e2eSecretToken" not in created.get_data(as_text=True)
