"""The OAuth 2.0 protocol pieces: the authorization URL (state, PKCE S256) and the token requests
(code exchange, refresh), built with Authlib and sent through the hub's egress client.

Authlib builds the messages (`prepare_grant_uri`, `prepare_token_request`, client authentication
by `ClientAuth`, `create_s256_code_challenge`, `generate_token`); its HTTP sessions are not used,
because every call the hub makes must go through `hub.egress` (the address checked once and
connected to, no redirects, one deadline, a size cap), which a requests or httpx session would
bypass. The provider's `read_token` turns the answer into an `OAuthToken` or a `TokenRefusal`.
"""
from __future__ import annotations

import datetime
import json
from urllib.parse import parse_qsl

from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from hub.oauth.apps import AppEndpoints
from hub.sdk import HttpClient, OAuth, OAuthToken, TokenRefusal
from hub.sdk.oauth import expires_at_of

STATE_LENGTH = 43  # characters of [A-Za-z0-9]: about 256 random bits (the contract asks 128+)
VERIFIER_LENGTH = 64  # RFC 7636: 43 to 128 unreserved characters
_CLIENT_AUTH = {"basic": "client_secret_basic", "form": "client_secret_post"}


def new_state() -> str:
    return generate_token(STATE_LENGTH)


def new_verifier() -> str:
    return generate_token(VERIFIER_LENGTH)


def authorize_url(oauth: OAuth, app: AppEndpoints, *, redirect_uri: str, state: str,
                  verifier: str, scopes: tuple[str, ...]) -> str:
    """The URL a person opens to consent: response_type=code, client_id, redirect_uri, the scopes
    as the provider takes them, state and a PKCE S256 code_challenge."""
    return prepare_grant_uri(
        app.authorize_url, app.client_id, "code", redirect_uri=redirect_uri, state=state,
        code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256",
        **oauth.query_scopes(scopes), **dict(oauth.authorize_params))


def exchange_code(oauth: OAuth, app: AppEndpoints, http: HttpClient, *, code: str,
                  redirect_uri: str, verifier: str) -> OAuthToken | TokenRefusal:
    return _token_request(oauth, app, http, "authorization_code", code=code,
                          redirect_uri=redirect_uri, code_verifier=verifier)


def refresh(oauth: OAuth, app: AppEndpoints, http: HttpClient, *,
            refresh_token: str) -> OAuthToken | TokenRefusal:
    return _token_request(oauth, app, http, "refresh_token", refresh_token=refresh_token)


def _token_request(oauth: OAuth, app: AppEndpoints, http: HttpClient, grant_type: str, *,
                   redirect_uri: str | None = None, **params) -> OAuthToken | TokenRefusal:
    """POST the grant to the token endpoint and read the answer. EgressError propagates."""
    headers = dict(oauth.token_headers)
    body = prepare_token_request(grant_type, redirect_uri=redirect_uri, **params)
    if oauth.client_auth == "json":  # Atlassian: everything in one JSON object
        document = dict(parse_qsl(body)) | {"client_id": app.client_id,
                                           "client_secret": app.client_secret}
        headers["Content-Type"] = "application/json"
        response = http.request("POST", app.token_url, headers=headers, json=document)
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        _, headers, body = ClientAuth(app.client_id, app.client_secret,
                                      _CLIENT_AUTH[oauth.client_auth]).prepare(
            "POST", app.token_url, headers, body)
        response = http.request("POST", app.token_url, headers=headers,
                                data=body.encode("utf-8"))
    try:
        document = response.json()
    except ValueError:
        document = _form_answer(response)
    try:
        return oauth.read_token(response.status, document)
    except Exception:  # a plugin's reader that fails on an odd answer: no token, and no details
        return TokenRefusal(f"http_{response.status}", "The token endpoint's answer could not be "
                                                       "read.", spent=False)


def _form_answer(response) -> dict | None:
    # GitHub answers form-encoded when Accept is not JSON; read it rather than fail.
    try:
        text = response.body.decode("utf-8")
    except (UnicodeDecodeError, AttributeError):
        return None
    pairs = dict(parse_qsl(text))
    return pairs if "access_token" in pairs or "error" in pairs else None


def credentials_of(token: OAuthToken, *, oauth_app_id: str, previous: dict | None = None,
                   now: datetime.datetime | None = None) -> dict:
    """The credentials an `oauth` integration stores for a token; a refresh that returns no new
    refresh token keeps the old one, and the extras found at the exchange stay."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    kept = {k: v for k, v in (previous or {}).items()
            if k not in ("access_token", "refresh_token", "token_type", "expires_at", "scopes")}
    credentials = kept | dict(token.extras) | {
        "access_token": token.access_token, "token_type": token.token_type,
        "scopes": list(token.scopes) or list((previous or {}).get("scopes") or []),
        "oauth_app_id": oauth_app_id}
    refresh_token = token.refresh_token or (previous or {}).get("refresh_token")
    if refresh_token:
        credentials["refresh_token"] = refresh_token
    expires_at = expires_at_of(token, now)
    if expires_at:
        credentials["expires_at"] = expires_at
    json.dumps(credentials)  # stored as JSON: a plugin's extra that is not fails here
    return credentials
