"""The test kit's fake OAuth provider, driven over HTTP with a plain client as the hub would be.

Proves the fake before the hub's OAuth tests rely on it: each kind's whole flow, what the
authorize endpoint refuses, single-use codes bound to the PKCE challenge, rotating refresh tokens,
revocation and expiry as the identity endpoints report them, each provider's error shapes, and
exact counting of concurrent refreshes.
"""
from __future__ import annotations

import base64
import concurrent.futures
import datetime
import hashlib
import json
import os
import secrets
import subprocess
import sys
import textwrap
import urllib.parse

import pytest
import urllib3

from hub.testing.fake_oauth import ConsentError, FakeOAuthServer

CALLBACK = "https://hub.example.test/v1/oauth/callback"
SCOPES = {"slack": "chat:write,channels:read", "github": None,
          "atlassian": "read:jira-user read:jira-work offline_access"}

http = urllib3.PoolManager(maxsize=32)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_url(server, challenge, state="s" * 22, **overrides) -> str:
    params = {"response_type": "code", "client_id": server.client_id, "redirect_uri": CALLBACK,
              "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
    if SCOPES[server.kind]:
        params["scope"] = SCOPES[server.kind]
    if server.kind == "atlassian":
        params.update(audience="api.atlassian.com", prompt="consent")
    params.update(overrides)
    params = {k: v for k, v in params.items() if v is not None}
    return f"{server.authorize_url}?{urllib.parse.urlencode(params)}"


def query_of(location: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def token_request(server, secret="csecret", *, basic=None, accept_json=True, **params):
    """POST the token endpoint the way its provider documents; returns (status, body dict)."""
    params = {k: v for k, v in params.items() if v is not None}
    headers = {}
    if server.kind == "atlassian":
        body = json.dumps({"client_id": server.client_id, "client_secret": secret, **params})
        headers["Content-Type"] = "application/json"
    else:
        if server.kind == "slack" and (basic is None or basic):
            creds = base64.b64encode(f"{server.client_id}:{secret}".encode()).decode()
            headers["Authorization"] = f"Basic {creds}"
        else:
            params = {"client_id": server.client_id, "client_secret": secret, **params}
        body = urllib.parse.urlencode(params)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        if server.kind == "github" and accept_json:
            headers["Accept"] = "application/json"
    response = http.request("POST", server.token_url, body=body, headers=headers)
    if response.headers["Content-Type"].startswith("application/json"):
        return response.status, json.loads(response.data)
    return response.status, dict(urllib.parse.parse_qsl(response.data.decode(),
                                                        keep_blank_values=True))


def connect(server, **token_params):
    """Consent and exchange the code: the token endpoint's (status, body)."""
    verifier, challenge = pkce()
    code = query_of(server.consent(authorize_url(server, challenge)))["code"]
    return token_request(server, grant_type="authorization_code", code=code,
                         redirect_uri=CALLBACK, code_verifier=verifier, **token_params)


def refresh(server, refresh_token, **kwargs):
    return token_request(server, grant_type="refresh_token", refresh_token=refresh_token,
                         **kwargs)


def identity(server, token):
    """Call the provider's identity endpoint with `token`: (status, body)."""
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "hub-test"}
    if server.kind == "slack":
        response = http.request("POST", f"{server.api_base_url}/auth.test", headers=headers)
    elif server.kind == "github":
        response = http.request("GET", f"{server.api_base_url}/user", headers=headers)
    else:
        response = http.request(
            "GET", f"{server.api_base_url}/ex/jira/{server.cloud_id}/rest/api/3/myself",
            headers=headers)
    return response.status, json.loads(response.data)


def identity_ok(server, token) -> bool:
    status, body = identity(server, token)
    return status == 200 and body.get("ok", True) is True


KINDS = ["slack", "github", "atlassian"]


@pytest.fixture(params=KINDS)
def server(request, fake_oauth):
    return fake_oauth(request.param)


# --- each provider's whole flow ---------------------------------------------------------------

def test_slack_flow_answers_as_slack(fake_oauth):
    server = fake_oauth("slack")
    assert server.authorize_url.endswith("/oauth/v2/authorize")
    assert server.token_url.endswith("/api/oauth.v2.access")
    status, body = connect(server)
    assert status == 200 and body["ok"] is True
    assert body["access_token"].startswith("xoxe.xoxb-")
    assert body["refresh_token"].startswith("xoxe-1-")
    assert body["token_type"] == "bot" and body["expires_in"] == 43200
    assert body["scope"] == "chat:write,channels:read"
    assert body["team"] == {"id": "T123", "name": "Acme"} and body["enterprise"] is None
    assert body["bot_user_id"] and body["app_id"]
    assert server.grants == [{"grant_type": "authorization_code", "ok": True, "error": None}]
    assert server.grant_details[0]["client_auth"] == "basic"

    status, me = identity(server, body["access_token"])
    assert status == 200 and me["ok"] is True and me["team_id"] == "T123"
    assert {"team", "user", "user_id", "url"} <= set(me)
    response = http.request("POST", f"{server.api_base_url}/auth.test",
                            headers={"Authorization": f"Bearer {body['access_token']}"})
    assert response.headers["X-OAuth-Scopes"] == "chat:write,channels:read"


def test_slack_takes_client_credentials_as_form_fields_too(fake_oauth):
    server = fake_oauth("slack")
    status, body = connect(server, basic=False)
    assert body["ok"] is True
    assert server.grant_details[0]["client_auth"] == "form"


def test_github_flow_answers_as_github(fake_oauth):
    server = fake_oauth("github")
    assert server.authorize_url.endswith("/login/oauth/authorize")
    assert server.token_url.endswith("/login/oauth/access_token")
    status, body = connect(server)
    assert status == 200
    assert body["access_token"].startswith("ghu_") and body["refresh_token"].startswith("ghr_")
    assert body["expires_in"] == 28800 and body["refresh_token_expires_in"] == 15811200
    assert body["scope"] == "" and body["token_type"] == "bearer"

    status, me = identity(server, body["access_token"])
    assert status == 200 and me["login"] == "octocat" and me["id"] == 1


def test_github_answers_form_encoded_without_accept_json(fake_oauth):
    server = fake_oauth("github")
    status, body = connect(server, accept_json=False)
    assert status == 200 and body["access_token"].startswith("ghu_")
    assert body["expires_in"] == "28800" and body["scope"] == ""  # form values are strings


def test_github_wants_a_user_agent(fake_oauth):
    server = fake_oauth("github")
    _status, body = connect(server)
    response = http.request("GET", f"{server.api_base_url}/user",
                            headers={"Authorization": f"Bearer {body['access_token']}",
                                     "User-Agent": ""})
    assert response.status == 403


def test_atlassian_flow_answers_as_atlassian(fake_oauth):
    server = fake_oauth("atlassian")
    assert server.authorize_url.endswith("/authorize")
    assert server.token_url.endswith("/oauth/token")
    status, body = connect(server)
    assert status == 200
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type", "scope"}
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    assert body["scope"] == "read:jira-user read:jira-work offline_access"

    headers = {"Authorization": f"Bearer {body['access_token']}"}
    sites = http.request("GET", f"{server.api_base_url}/oauth/token/accessible-resources",
                         headers=headers)
    assert sites.status == 200
    [site] = json.loads(sites.data)
    assert site["id"] == server.cloud_id and site["url"] == "https://acme.atlassian.net"
    assert site["name"] and site["scopes"] == ["read:jira-user", "read:jira-work"]
    status, me = identity(server, body["access_token"])
    assert status == 200 and me["accountId"] and me["displayName"]


def test_atlassian_gives_no_refresh_token_without_offline_access(fake_oauth):
    server = fake_oauth("atlassian")
    verifier, challenge = pkce()
    location = server.consent(authorize_url(server, challenge, scope="read:jira-user"))
    status, body = token_request(server, grant_type="authorization_code",
                                 code=query_of(location)["code"], redirect_uri=CALLBACK,
                                 code_verifier=verifier)
    assert status == 200 and "refresh_token" not in body


def test_scopes_option_grants_what_the_test_says(fake_oauth):
    server = fake_oauth("slack", scopes=["chat:write"])
    _status, body = connect(server)
    assert body["scope"] == "chat:write"


def test_access_ttl_option(fake_oauth):
    server = fake_oauth("github", access_ttl=120)
    assert connect(server)[1]["expires_in"] == 120


# --- the authorize endpoint ---------------------------------------------------------------------

def test_consent_redirects_with_code_and_state(server):
    _verifier, challenge = pkce()
    location = server.consent(authorize_url(server, challenge, state="st4te"))
    assert location.startswith(CALLBACK + "?")
    query = query_of(location)
    assert query["state"] == "st4te" and query["code"]


def test_denied_consent_redirects_with_access_denied(server):
    _verifier, challenge = pkce()
    location = server.consent(authorize_url(server, challenge, state="st4te"), approve=False)
    query = query_of(location)
    assert query["error"] == "access_denied" and query["state"] == "st4te"
    assert "code" not in query


def test_redirect_uri_query_is_kept(server):
    _verifier, challenge = pkce()
    location = server.consent(authorize_url(server, challenge,
                                            redirect_uri=CALLBACK + "?tenant=1"))
    assert query_of(location)["tenant"] == "1" and query_of(location)["code"]


@pytest.mark.parametrize("override, reason", [
    ({"client_id": "other"}, "client_id"),
    ({"client_id": None}, "client_id is missing"),
    ({"redirect_uri": None}, "redirect_uri"),
    ({"redirect_uri": "/relative"}, "redirect_uri"),
    ({"response_type": "token"}, "response_type"),
    ({"state": None}, "state is missing"),
    ({"code_challenge": None}, "code_challenge"),
    ({"code_challenge_method": "plain"}, "S256"),
    ({"code_challenge": "too-short"}, "code_challenge"),
])
def test_invalid_authorize_request_is_refused_with_the_reason(server, override, reason):
    _verifier, challenge = pkce()
    with pytest.raises(ConsentError, match=reason):
        server.consent(authorize_url(server, challenge, **override))
    assert server.grants == []


@pytest.mark.parametrize("kind, override, reason", [
    ("slack", {"scope": None}, "scope"),
    ("slack", {"scope": "chat:write channels:read"}, "comma-separated"),
    ("atlassian", {"scope": "read:jira-user,offline_access"}, "space-separated"),
    ("atlassian", {"audience": None}, "audience"),
    ("atlassian", {"prompt": None}, "prompt"),
])
def test_provider_specific_authorize_checks(fake_oauth, kind, override, reason):
    server = fake_oauth(kind)
    with pytest.raises(ConsentError, match=reason):
        server.consent(authorize_url(server, pkce()[1], **override))


def test_unregistered_redirect_uri_is_refused(fake_oauth):
    server = fake_oauth("github", redirect_uris=["https://hub.example.test/other"])
    with pytest.raises(ConsentError, match="not registered"):
        server.consent(authorize_url(server, pkce()[1]))


def test_consent_needs_an_url_at_this_fake(fake_oauth):
    server = fake_oauth("slack")
    with pytest.raises(ConsentError, match="does not point at this fake"):
        server.consent("https://slack.com/oauth/v2/authorize?client_id=cid")


def test_a_consent_page_is_answered_once(fake_oauth):
    server = fake_oauth("slack")
    page = http.request("GET", authorize_url(server, pkce()[1]), redirect=False)
    request_id = page.data.decode().split('name="request" value="')[1].split('"')[0]
    first = http.request("POST", server.authorize_url, fields={"request": request_id,
                         "decision": "approve"}, encode_multipart=False, redirect=False)
    again = http.request("POST", server.authorize_url, fields={"request": request_id,
                         "decision": "approve"}, encode_multipart=False, redirect=False)
    assert first.status == 302 and again.status == 400


# --- the code exchange ------------------------------------------------------------------------

# What each provider answers to a refused token request: (status, error code) by the fake's reason.
ERRORS = {
    "slack": {"code": (200, "invalid_code"), "client": (200, "bad_client_secret"),
              "redirect": (200, "bad_redirect_uri"), "refresh": (200, "invalid_refresh_token")},
    "github": {"code": (200, "bad_verification_code"),
               "client": (200, "incorrect_client_credentials"),
               "redirect": (200, "redirect_uri_mismatch"), "refresh": (200, "bad_refresh_token")},
    "atlassian": {"code": (403, "invalid_grant"), "client": (403, "unauthorized_client"),
                  "redirect": (403, "invalid_grant"), "refresh": (403, "invalid_grant")},
}


def assert_refused(server, answer, what):
    status, body = answer
    expected_status, code = ERRORS[server.kind][what]
    assert status == expected_status and body["error"] == code, answer
    if server.kind == "slack":
        assert body["ok"] is False and set(body) == {"ok", "error"}
    elif server.kind == "github":
        assert body["error_description"] and body["error_uri"].startswith("https://")
    else:
        assert set(body) == {"error", "error_description"}
    assert server.grants[-1]["ok"] is False and server.grants[-1]["error"] == code


def consented_code(server):
    verifier, challenge = pkce()
    return verifier, query_of(server.consent(authorize_url(server, challenge)))["code"]


def test_pkce_mismatch_is_refused(server):
    _verifier, code = consented_code(server)
    other_verifier, _ = pkce()
    answer = token_request(server, grant_type="authorization_code", code=code,
                           redirect_uri=CALLBACK, code_verifier=other_verifier)
    assert_refused(server, answer, "code")
    assert "code_verifier" in server.grant_details[-1]["why"]
    assert server.issued_access_tokens == set()


def test_missing_verifier_is_refused(server):
    _verifier, code = consented_code(server)
    answer = token_request(server, grant_type="authorization_code", code=code,
                           redirect_uri=CALLBACK)
    assert_refused(server, answer, "code")


def test_code_replay_is_refused(server):
    verifier, code = consented_code(server)
    params = dict(grant_type="authorization_code", code=code, redirect_uri=CALLBACK,
                  code_verifier=verifier)
    assert token_request(server, **params)[0] == 200 and server.grants[-1]["ok"]
    assert_refused(server, token_request(server, **params), "code")
    assert len(server.issued_access_tokens) == 1


def test_expired_code_is_refused(server):
    verifier, code = consented_code(server)
    server.advance(601)
    answer = token_request(server, grant_type="authorization_code", code=code,
                           redirect_uri=CALLBACK, code_verifier=verifier)
    assert_refused(server, answer, "code")


def test_unknown_code_is_refused(server):
    verifier, _code = consented_code(server)
    answer = token_request(server, grant_type="authorization_code", code="made-up",
                           redirect_uri=CALLBACK, code_verifier=verifier)
    assert_refused(server, answer, "code")


def test_redirect_uri_must_match_the_authorize_one(server):
    verifier, code = consented_code(server)
    answer = token_request(server, grant_type="authorization_code", code=code,
                           redirect_uri=CALLBACK + "/other", code_verifier=verifier)
    assert_refused(server, answer, "redirect")


def test_wrong_client_secret_is_refused(server):
    verifier, code = consented_code(server)
    answer = token_request(server, "wrong", grant_type="authorization_code", code=code,
                           redirect_uri=CALLBACK, code_verifier=verifier)
    assert_refused(server, answer, "client")
    # The code was not spent by a client that could not authenticate.
    assert token_request(server, grant_type="authorization_code", code=code,
                         redirect_uri=CALLBACK, code_verifier=verifier)[0] == 200


def test_slack_without_client_id_says_invalid_client_id(fake_oauth):
    server = fake_oauth("slack")
    response = http.request("POST", server.token_url, fields={"code": "x"},
                            encode_multipart=False)
    assert json.loads(response.data) == {"ok": False, "error": "invalid_client_id"}


def test_github_reads_no_basic_auth(fake_oauth):
    server = fake_oauth("github")
    verifier, code = consented_code(server)
    creds = base64.b64encode(b"cid:csecret").decode()
    response = http.request(
        "POST", server.token_url, headers={"Authorization": f"Basic {creds}",
                                           "Accept": "application/json"},
        fields={"code": code, "redirect_uri": CALLBACK, "code_verifier": verifier},
        encode_multipart=False)
    assert json.loads(response.data)["error"] == "incorrect_client_credentials"


def test_github_form_encoded_error(fake_oauth):
    server = fake_oauth("github")
    status, body = token_request(server, accept_json=False, code="nope", redirect_uri=CALLBACK)
    assert status == 200 and body["error"] == "bad_verification_code"
    assert body["error_description"] and body["error_uri"]


def test_atlassian_wants_a_json_body(fake_oauth):
    server = fake_oauth("atlassian")
    response = http.request("POST", server.token_url, encode_multipart=False,
                            fields={"grant_type": "refresh_token", "client_id": "cid",
                                    "client_secret": "csecret", "refresh_token": "x"})
    assert response.status == 400 and json.loads(response.data)["error"] == "invalid_request"


def test_unsupported_grant_type(server):
    status, body = token_request(server, grant_type="password")
    expected = {"slack": (200, "invalid_grant_type"), "github": (200, "unsupported_grant_type"),
                "atlassian": (400, "unsupported_grant_type")}[server.kind]
    assert (status, body["error"]) == expected


# --- refresh, revocation, expiry ----------------------------------------------------------------

def test_refresh_rotates_and_the_spent_token_is_refused(server):
    _status, first = connect(server)
    status, second = refresh(server, first["refresh_token"])
    assert status == 200 and second.get("ok", True) is True
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert identity_ok(server, second["access_token"])
    assert server.refresh_grants == 1

    assert_refused(server, refresh(server, first["refresh_token"]), "refresh")
    assert server.refresh_grants == 1
    # The one sent is spent; the new one works once more.
    assert refresh(server, second["refresh_token"])[0] == 200 and server.refresh_grants == 2
    assert first["refresh_token"] not in server.valid_refresh_tokens


def test_old_access_token_after_refresh(server):
    _status, first = connect(server)
    _status, second = refresh(server, first["refresh_token"])
    # Slack and GitHub end the old access token; Atlassian's lives until it expires.
    assert identity_ok(server, first["access_token"]) is (server.kind == "atlassian")
    assert (first["access_token"] in server.valid_access_tokens) is (server.kind == "atlassian")
    assert second["access_token"] in server.valid_access_tokens
    assert server.issued_access_tokens == {first["access_token"], second["access_token"]}


def test_refresh_with_wrong_client_secret_is_refused_and_spends_nothing(server):
    _status, first = connect(server)
    assert_refused(server, refresh(server, first["refresh_token"], secret="wrong"), "client")
    assert refresh(server, first["refresh_token"])[0] == 200


def test_revoke_all(server):
    _status, first = connect(server)
    server.revoke_all()
    assert server.valid_access_tokens == set() and server.valid_refresh_tokens == set()
    assert_refused(server, refresh(server, first["refresh_token"]), "refresh")
    status, body = identity(server, first["access_token"])
    if server.kind == "slack":
        assert (status, body) == (200, {"ok": False, "error": "token_revoked"})
    else:
        assert status == 401
    # A new consent works again.
    assert connect(server)[0] == 200


def test_revoke_all_ends_codes_not_yet_exchanged(server):
    verifier, code = consented_code(server)
    server.revoke_all()
    answer = token_request(server, grant_type="authorization_code", code=code,
                           redirect_uri=CALLBACK, code_verifier=verifier)
    assert_refused(server, answer, "code")


def test_expire_access_tokens(server):
    _status, first = connect(server)
    server.expire_access_tokens()
    assert server.valid_access_tokens == set()
    status, body = identity(server, first["access_token"])
    if server.kind == "slack":
        assert (status, body) == (200, {"ok": False, "error": "token_expired"})
    elif server.kind == "github":
        assert status == 401 and body["message"] == "Bad credentials"
    else:
        assert status == 401
    _status, second = refresh(server, first["refresh_token"])  # refresh tokens still work
    assert identity_ok(server, second["access_token"])


def test_refresh_tokens_expire_as_the_providers_do(server):
    _status, first = connect(server)
    server.advance(server.dialect.refresh_ttl or 10 * 365 * 86400)
    status, body = refresh(server, first["refresh_token"])
    if server.kind == "slack":  # Slack's refresh tokens do not expire
        assert body["ok"] is True
    else:  # GitHub's after 6 months, Atlassian's after 90 days
        assert_refused(server, (status, body), "refresh")


def test_token_endpoint_outage(server):
    _status, first = connect(server)
    server.fail_token_requests(2, status=502)
    for _ in range(2):
        response = http.request("POST", server.token_url, body=b"{}")
        assert response.status == 502
    assert server.grants[-2:] == [{"grant_type": None, "ok": False, "error": "http_502"}] * 2
    assert refresh(server, first["refresh_token"])[0] == 200  # nothing was spent


def test_access_tokens_expire_with_the_fakes_clock(server):
    _status, first = connect(server)
    server.advance(server.access_ttl + 1)
    assert not identity_ok(server, first["access_token"])


def test_unknown_access_token(server):
    status, body = identity(server, "xoxe.xoxb-1-nope" if server.kind == "slack" else "nope")
    if server.kind == "slack":
        assert body == {"ok": False, "error": "invalid_auth"}
    else:
        assert status == 401


def test_slack_auth_test_without_token(fake_oauth):
    server = fake_oauth("slack")
    response = http.request("POST", f"{server.api_base_url}/auth.test")
    assert json.loads(response.data) == {"ok": False, "error": "not_authed"}


def test_atlassian_other_cloud_id_is_not_found(fake_oauth):
    server = fake_oauth("atlassian")
    _status, body = connect(server)
    response = http.request("GET", f"{server.api_base_url}/ex/jira/other/rest/api/3/myself",
                            headers={"Authorization": f"Bearer {body['access_token']}"})
    assert response.status == 404


# --- concurrency ----------------------------------------------------------------------------------

def test_concurrent_refreshes_with_one_token_are_counted_exactly(server):
    """20 refreshes with the same token at once (a hub without a lock): exactly one wins."""
    _status, first = connect(server)
    server.slow_token_endpoint(0.05)  # all 20 are in flight together
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: refresh(server, first["refresh_token"]), range(20)))
    winners = [body for status, body in answers if status == 200 and "access_token" in body]
    assert len(winners) == 1 and server.refresh_grants == 1
    refreshes = [g for g in server.grants if g["grant_type"] == "refresh_token"]
    assert len(refreshes) == 20 and sum(not g["ok"] for g in refreshes) == 19


def test_concurrent_refreshes_of_separate_connections_all_succeed(server):
    tokens = [connect(server)[1]["refresh_token"] for _ in range(20)]
    server.slow_token_endpoint(0.05)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda token: refresh(server, token), tokens))
    assert all(status == 200 and "access_token" in body for status, body in answers)
    assert server.refresh_grants == 20
    assert len({body["access_token"] for _status, body in answers}) == 20


# --- the object itself ------------------------------------------------------------------------

def test_context_manager_and_repr_without_secret():
    with FakeOAuthServer("github", client_secret="s3cr3t-value") as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert "s3cr3t-value" not in repr(server)
        port_url = server.base_url
    with pytest.raises(urllib3.exceptions.HTTPError):
        urllib3.PoolManager(retries=False).request("GET", port_url + "/user", timeout=1)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="slack, github, atlassian"):
        FakeOAuthServer("gitlab")


def test_kit_exports_the_server():
    import hub.testing

    assert hub.testing.FakeOAuthServer is FakeOAuthServer


# --- the hub's own checks read the fake's identity endpoints --------------------------------------

def test_slack_check_against_the_fake(fake_oauth, egress_client):
    from hub_slack import PROVIDER

    from hub.testing import verify_credentials

    server = fake_oauth("slack")
    _status, body = connect(server)
    config = {"api_base_url": server.api_base_url}
    result = verify_credentials(PROVIDER, {"token": body["access_token"]}, config=config,
                                http=egress_client)
    assert result.ok and result.identity["team_id"] == "T123", result
    assert result.scopes == ["chat:write", "channels:read"]
    server.expire_access_tokens()
    result = verify_credentials(PROVIDER, {"token": body["access_token"]}, config=config,
                                http=egress_client)
    assert not result.ok and result.error.code == "expired"
    server.revoke_all()
    result = verify_credentials(PROVIDER, {"token": body["access_token"]}, config=config,
                                http=egress_client)
    assert not result.ok and result.error.code == "revoked"


def test_github_check_against_the_fake(fake_oauth, egress_client):
    from hub_github import PROVIDER

    from hub.testing import verify_credentials

    server = fake_oauth("github")
    _status, body = connect(server)
    config = {"api_base_url": server.api_base_url}
    result = verify_credentials(PROVIDER, {"token": body["access_token"]}, config=config,
                                http=egress_client)
    assert result.ok and result.identity["login"] == "octocat", result
    # Read from GitHub-Authentication-Token-Expiration: the token's 8 hours, to the second.
    expected = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)
    assert abs(result.expires_at - expected) < datetime.timedelta(minutes=5)
    server.revoke_all()
    result = verify_credentials(PROVIDER, {"token": body["access_token"]}, config=config,
                                http=egress_client)
    assert not result.ok and result.error.code == "invalid_credentials"


# --- without the optional test dependencies -------------------------------------------------------

OAUTH_SUITE = '''
    import urllib.parse

    def test_fake_oauth_needs_no_pytest_httpserver(fake_oauth):
        server = fake_oauth("github")
        url = server.authorize_url + "?" + urllib.parse.urlencode({
            "client_id": "cid", "redirect_uri": "https://hub.test/cb", "response_type": "code",
            "state": "st", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256"})
        assert "code=" in server.consent(url)
'''


def test_fake_oauth_works_where_pytest_httpserver_is_not_installed(tmp_path):
    """The fake runs on werkzeug (which Flask brings): a plugin author needs no `hub[test]`."""
    hidden = tmp_path / "hidden" / "pytest_httpserver"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ModuleNotFoundError("No module named '
                                        'pytest_httpserver", name="pytest_httpserver")\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "test_suite.py").write_text(textwrap.dedent(OAUTH_SUITE))
    environment = {**os.environ, "PYTHONPATH": str(hidden.parent)}
    environment.pop("PYTEST_ADDOPTS", None)
    environment.pop("PYTEST_PLUGINS", None)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
         "no:pytest_httpserver", "test_suite.py"],
        cwd=project, env=environment, capture_output=True, text=True, timeout=60)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0 and "1 passed" in output, output
