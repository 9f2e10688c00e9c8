"""How each provider's OAuth endpoints speak, for the fake OAuth server (`hub.testing.fake_oauth`).

One dialect per provider kind: its paths, where the token endpoint takes the client's credentials
and parameters, how it words a refusal (`REFUSALS` maps the fake's reason to the provider's error),
the shape of a token answer, and what its identity endpoints answer. Facts from
../shared/PROVIDERS.md ("OAuth"); where the providers' documentation is silent (which code Slack
gives a wrong PKCE verifier, say) the choice is noted.
"""
from __future__ import annotations

import base64
import json
import secrets
import string
import urllib.parse

from werkzeug import Request, Response

__all__ = ["DIALECTS", "Dialect", "Refusal"]

# The fake's reasons for refusing a token request; each dialect words them as its provider does.
REASONS = ("client_missing", "client_unknown", "bad_secret", "bad_code", "redirect_mismatch",
           "bad_verifier", "bad_refresh", "bad_grant_type", "bad_request")

_ALNUM = string.ascii_letters + string.digits


def _alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


class Refusal(Exception):
    """A token request the fake refuses: `reason` (one of REASONS) and why, for the grants log."""

    def __init__(self, reason: str, why: str):
        assert reason in REASONS, reason
        super().__init__(why)
        self.reason, self.why = reason, why


def _json(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json; charset=utf-8")


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None


class Dialect:
    kind: str
    authorize_path: str
    token_path: str
    api_path: str  # api_base_url = base_url + api_path
    access_ttl: int
    refresh_ttl: int | None  # None: refresh tokens do not expire
    scope_separator: str
    # A refresh also ends the access token it replaces.
    refresh_revokes_access: bool
    # Codes issued for an authorization; exchanging one a second time is refused.
    REFUSALS: dict[str, tuple[str, str]]

    # --- tokens -----------------------------------------------------------------------------
    def new_code(self) -> str:
        return secrets.token_urlsafe(32)

    def new_access_token(self) -> str:
        raise NotImplementedError

    def new_refresh_token(self) -> str:
        raise NotImplementedError

    # --- authorize ----------------------------------------------------------------------------
    def scopes_problem(self, args) -> str | None:
        """Why the authorize request's scopes are wrong for this provider, or None."""
        return None

    def requested_scopes(self, args) -> list[str]:
        return [s for s in args.get("scope", "").split(self.scope_separator) if s]

    def denied_params(self) -> dict[str, str]:
        return {"error": "access_denied"}

    # --- token endpoint -----------------------------------------------------------------------
    def token_params(self, request: Request) -> tuple[dict, str | None, str | None, str]:
        """(parameters, client_id, client_secret, how the client authenticated)."""
        raise NotImplementedError

    def default_grant_type(self) -> str | None:
        return "authorization_code"

    def token_answer(self, grant: dict, request: Request) -> Response:
        raise NotImplementedError

    def refusal(self, refusal: Refusal, request: Request) -> tuple[Response, str]:
        """The provider's answer to a refused token request, and its error code."""
        raise NotImplementedError

    # --- identity endpoints ---------------------------------------------------------------------
    def identity_routes(self) -> dict:
        """{(method, path or path prefix): handler(server, request) -> Response}."""
        raise NotImplementedError


class SlackDialect(Dialect):
    kind = "slack"
    authorize_path = "/oauth/v2/authorize"
    token_path = "/api/oauth.v2.access"
    api_path = "/api"
    access_ttl = 43200
    refresh_ttl = None
    scope_separator = ","
    refresh_revokes_access = True
    # PKCE: Slack documents no code of its own for a wrong verifier; the code is then invalid.
    REFUSALS = {
        "client_missing": ("invalid_client_id", "no client_id"),
        "client_unknown": ("invalid_client_id", "unknown client_id"),
        "bad_secret": ("bad_client_secret", "wrong client_secret"),
        "bad_code": ("invalid_code", "the code is unknown, used or expired"),
        "redirect_mismatch": ("bad_redirect_uri", "redirect_uri differs from the authorize one"),
        "bad_verifier": ("invalid_code", "code_verifier does not match the code_challenge"),
        "bad_refresh": ("invalid_refresh_token", "the refresh token is unknown, spent or revoked"),
        "bad_grant_type": ("invalid_grant_type", "unsupported grant_type"),
        "bad_request": ("invalid_form_data", "the body is not a form"),
    }
    team = {"id": "T123", "name": "Acme"}
    app_id = "A123"
    bot_user_id = "U123"
    authed_user_id = "U456"
    identity = {"url": "https://acme.slack.com/", "team": "Acme", "user": "hubbot",
                "team_id": "T123", "user_id": "U123", "bot_id": "B123",
                "is_enterprise_install": False}

    def new_code(self) -> str:
        return f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**13)}.{secrets.token_hex(32)}"

    def new_access_token(self) -> str:
        return f"xoxe.xoxb-1-{_alnum(60)}"

    def new_refresh_token(self) -> str:
        return f"xoxe-1-{_alnum(80)}"

    def scopes_problem(self, args) -> str | None:
        if not args.get("scope") and not args.get("user_scope"):
            return "no scope or user_scope requested"
        for name in ("scope", "user_scope"):
            if " " in args.get(name, ""):
                return f"{name} must be comma-separated (Slack), not space-separated"
        return None

    def token_params(self, request):
        if request.mimetype != "application/x-www-form-urlencoded":
            params = {}
        else:
            params = request.form.to_dict()
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            return params, auth.username, auth.password, "basic"
        return params, params.get("client_id"), params.get("client_secret"), "form"

    def token_answer(self, grant, request):
        return _json({"ok": True, "app_id": self.app_id,
                      "authed_user": {"id": self.authed_user_id},
                      "scope": ",".join(grant["scopes"]), "token_type": "bot",
                      "access_token": grant["access_token"], "bot_user_id": self.bot_user_id,
                      "refresh_token": grant["refresh_token"], "expires_in": grant["expires_in"],
                      "team": dict(self.team), "enterprise": None,
                      "is_enterprise_install": False})

    def refusal(self, refusal, request):
        code = self.REFUSALS[refusal.reason][0]
        return _json({"ok": False, "error": code}), code  # HTTP 200 even so, as Slack answers

    def identity_routes(self):
        return {("POST", "/api/auth.test"): self.auth_test,
                ("GET", "/api/auth.test"): self.auth_test}

    def auth_test(self, server, request):
        token = bearer_token(request) or request.values.get("token")
        if not token:
            return _json({"ok": False, "error": "not_authed"})
        state, scopes = server.access_token_state(token)
        if state != "valid":
            error = {"unknown": "invalid_auth", "expired": "token_expired",
                     "revoked": "token_revoked"}[state]
            return _json({"ok": False, "error": error})
        return _json({"ok": True, **self.identity},
                     headers={"X-OAuth-Scopes": ",".join(scopes)})


class GitHubDialect(Dialect):
    kind = "github"
    authorize_path = "/login/oauth/authorize"
    token_path = "/login/oauth/access_token"
    api_path = ""
    access_ttl = 28800
    refresh_ttl = 15811200
    scope_separator = " "
    refresh_revokes_access = True
    _DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
    # PKCE: GitHub words a wrong verifier as a code that "doesn't match" the authorization.
    REFUSALS = {
        "client_missing": ("incorrect_client_credentials",
                           "The client_id and/or client_secret passed are incorrect."),
        "client_unknown": ("incorrect_client_credentials",
                           "The client_id and/or client_secret passed are incorrect."),
        "bad_secret": ("incorrect_client_credentials",
                       "The client_id and/or client_secret passed are incorrect."),
        "bad_code": ("bad_verification_code", "The code passed is incorrect or expired."),
        "redirect_mismatch": ("redirect_uri_mismatch",
                              "The redirect_uri MUST match the registered callback URL for this "
                              "application."),
        "bad_verifier": ("bad_verification_code", "The code passed is incorrect or expired."),
        "bad_refresh": ("bad_refresh_token", "The refresh token passed is incorrect or expired."),
        "bad_grant_type": ("unsupported_grant_type", "The grant type is not supported."),
        "bad_request": ("bad_verification_code", "The code passed is incorrect or expired."),
    }
    user = {"login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User",
            "name": "The Octocat", "site_admin": False,
            "html_url": "https://github.com/octocat"}

    def new_code(self) -> str:
        return secrets.token_hex(10)

    def new_access_token(self) -> str:
        return f"ghu_{_alnum(36)}"

    def new_refresh_token(self) -> str:
        return f"ghr_{_alnum(76)}"

    def requested_scopes(self, args) -> list[str]:
        return []  # GitHub Apps take no scope: permissions are the app's

    def denied_params(self):
        return {"error": "access_denied",
                "error_description": "The user has denied your application access.",
                "error_uri": "https://docs.github.com/apps/managing-oauth-apps/"
                             "troubleshooting-authorization-request-errors/#access-denied"}

    def token_params(self, request):
        # Form fields (or the query string); GitHub does not read client credentials elsewhere.
        params = {**request.args.to_dict(), **request.form.to_dict()}
        return params, params.get("client_id"), params.get("client_secret"), "form"

    def _answer(self, body: dict, request: Request) -> Response:
        if "application/json" in request.headers.get("Accept", ""):
            return _json(body)
        encoded = urllib.parse.urlencode({k: "" if v is None else v for k, v in body.items()})
        return Response(encoded, content_type="application/x-www-form-urlencoded; charset=utf-8")

    def token_answer(self, grant, request):
        return self._answer({"access_token": grant["access_token"],
                             "expires_in": grant["expires_in"],
                             "refresh_token": grant["refresh_token"],
                             "refresh_token_expires_in": grant["refresh_expires_in"],
                             "scope": "", "token_type": "bearer"}, request)

    def refusal(self, refusal, request):
        code, description = self.REFUSALS[refusal.reason]
        return self._answer({"error": code, "error_description": description,
                             "error_uri": self._DOCS + "#" + code.replace("_", "-")},
                            request), code

    def identity_routes(self):
        return {("GET", "/user"): self.get_user}

    def get_user(self, server, request):
        if not request.headers.get("User-Agent"):
            return Response("Request forbidden by administrative rules. Please make sure your "
                            "request has a User-Agent header.", status=403,
                            content_type="text/plain")
        token = bearer_token(request)
        state, _scopes = server.access_token_state(token) if token else ("unknown", [])
        if state != "valid":
            return _json({"message": "Bad credentials",
                          "documentation_url": "https://docs.github.com/rest", "status": "401"},
                         status=401)
        expires = server.access_token_expiry(token)
        return _json(self.user, headers={
            "GitHub-Authentication-Token-Expiration": expires.strftime("%Y-%m-%d %H:%M:%S UTC")})


class AtlassianDialect(Dialect):
    kind = "atlassian"
    authorize_path = "/authorize"
    token_path = "/oauth/token"
    api_path = ""
    access_ttl = 3600
    refresh_ttl = 90 * 24 * 3600  # rotating refresh tokens expire after 90 days unused
    scope_separator = " "
    refresh_revokes_access = False  # the old access token lives until it expires
    REFUSALS = {
        "client_missing": ("unauthorized_client", "Unauthorized"),
        "client_unknown": ("unauthorized_client", "Unauthorized"),
        "bad_secret": ("unauthorized_client", "Unauthorized"),
        "bad_code": ("invalid_grant", "Invalid authorization code"),
        "redirect_mismatch": ("invalid_grant", "Invalid redirect_uri"),
        "bad_verifier": ("invalid_grant", "Invalid code verifier"),
        "bad_refresh": ("invalid_grant", "Unknown or invalid refresh token."),
        "bad_grant_type": ("unsupported_grant_type", "Unsupported grant type"),
        "bad_request": ("invalid_request", "The request body must be JSON"),
    }
    _STATUS = {"unauthorized_client": 403, "invalid_grant": 403, "unsupported_grant_type": 400,
               "invalid_request": 400}
    cloud_id = "11111111-2222-4333-8444-555555555555"
    site = {"url": "https://acme.atlassian.net", "name": "acme",
            "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/site.png"}
    myself = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "accountType": "atlassian",
              "emailAddress": "mia@acme.example", "displayName": "Mia Krystof", "active": True,
              "timeZone": "Europe/Berlin", "locale": "en_US"}

    def _jwt_like(self) -> str:
        def segment(data: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
        return ".".join([segment({"kid": "fake", "alg": "RS256"}),
                         segment({"jti": secrets.token_hex(16)}), secrets.token_urlsafe(64)])

    def new_access_token(self) -> str:
        return self._jwt_like()

    def new_refresh_token(self) -> str:
        return self._jwt_like()

    def scopes_problem(self, args):
        if not args.get("scope"):
            return "no scope requested"
        if "," in args["scope"]:
            return "scope must be space-separated (Atlassian), not comma-separated"
        if args.get("audience") != "api.atlassian.com":
            return "audience must be api.atlassian.com"
        if args.get("prompt") != "consent":
            return "prompt must be consent"
        return None

    def denied_params(self):
        return {"error": "access_denied", "error_description": "access_denied"}

    def token_params(self, request):
        params = request.get_json(silent=True) if request.is_json else None
        if not isinstance(params, dict):
            raise Refusal("bad_request", "the token request body is not a JSON object")
        params = {k: v for k, v in params.items() if isinstance(v, str)}
        return params, params.get("client_id"), params.get("client_secret"), "json"

    def default_grant_type(self):
        return None  # Atlassian requires grant_type

    def token_answer(self, grant, request):
        body = {"access_token": grant["access_token"], "expires_in": grant["expires_in"],
                "token_type": "Bearer", "scope": " ".join(grant["scopes"])}
        if grant["refresh_token"]:
            body["refresh_token"] = grant["refresh_token"]
        return _json(body)

    def refusal(self, refusal, request):
        code, description = self.REFUSALS[refusal.reason]
        return _json({"error": code, "error_description": description},
                     status=self._STATUS[code]), code

    def identity_routes(self):
        return {("GET", "/oauth/token/accessible-resources"): self.accessible_resources,
                ("GET", f"/ex/jira/{self.cloud_id}/rest/api/3/myself"): self.get_myself}

    def _unauthorized(self) -> Response:
        return _json({"code": 401, "message": "Unauthorized"}, status=401)

    def accessible_resources(self, server, request):
        token = bearer_token(request)
        state, scopes = server.access_token_state(token) if token else ("unknown", [])
        if state != "valid":
            return self._unauthorized()
        return _json([{"id": self.cloud_id, **self.site,
                       "scopes": [s for s in scopes if s != "offline_access"]}])

    def get_myself(self, server, request):
        token = bearer_token(request)
        state, _scopes = server.access_token_state(token) if token else ("unknown", [])
        if state != "valid":
            return self._unauthorized()
        api = f"{server.api_base_url}/ex/jira/{self.cloud_id}/rest/api/3"
        return _json({"self": f"{api}/user?accountId={self.myself['accountId']}",
                      **self.myself})


DIALECTS: dict[str, type[Dialect]] = {
    "slack": SlackDialect, "github": GitHubDialect, "atlassian": AtlassianDialect}
