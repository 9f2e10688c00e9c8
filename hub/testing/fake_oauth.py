"""A fake OAuth provider on 127.0.0.1 (Slack, GitHub or Atlassian), for testing OAuth connections.

`FakeOAuthServer(kind=...)` serves the provider's authorize page, token endpoint and identity
endpoints as the real one answers them (../shared/PROVIDERS.md, "OAuth"; the wording of each
provider is in `hub.testing.oauth_dialects`), and keeps every code and token it issued so a test
can assert on them, revoke them or expire them. `consent(url)` plays the person's browser.

It runs a threaded werkzeug server (werkzeug comes with Flask), so it needs no optional test
dependency and serves concurrent refreshes at once; its state is guarded by one lock, so
concurrent token requests are counted exactly.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import hmac
import html
import re
import secrets
import threading
import time
import urllib.parse

import urllib3
from werkzeug import Request, Response
from werkzeug.serving import WSGIRequestHandler, make_server

from hub.testing.oauth_dialects import DIALECTS, Refusal

__all__ = ["ConsentError", "FakeOAuthServer"]

_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_CONSENT_FORM = re.compile(r'name="request" value="([^"]+)"')


class ConsentError(AssertionError):
    """The fake refused an authorize request (HTTP 400): the message says why."""


@dataclasses.dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: list[str]
    expires_at: float
    used: bool = False


@dataclasses.dataclass
class _Token:
    client_id: str
    scopes: list[str]
    expires_at: float | None
    ended: str | None = None  # "revoked" (revoke_all or rotated away) or "spent" (a refresh token)
    refresh: str | None = None  # an access token's: the refresh token issued with it


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass  # request lines carry codes and states: keep them out of test logs


class FakeOAuthServer:
    """A fake OAuth provider of `kind` ("slack", "github", "atlassian") on 127.0.0.1.

    - `scopes`: what the person grants; None grants what the authorize request asked for.
    - `access_ttl`: access token lifetime in seconds (default: the provider's).
    - `redirect_uris`: the registered callback URLs; None accepts any http(s) URL.
    - `code_ttl`: how long a code may be exchanged (10 minutes).
    - `require_pkce`: authorize requests must carry an S256 `code_challenge` (default True).
    """

    def __init__(self, kind: str = "slack", client_id: str = "cid", client_secret: str = "csecret",
                 access_ttl: int | None = None, scopes: list[str] | None = None, *,
                 redirect_uris: list[str] | None = None, code_ttl: int = 600,
                 require_pkce: bool = True):
        if kind not in DIALECTS:
            raise ValueError(f"kind must be one of {', '.join(DIALECTS)}")
        self.kind = kind
        self.dialect = DIALECTS[kind]()
        self.client_id, self._client_secret = client_id, client_secret
        self.access_ttl = self.dialect.access_ttl if access_ttl is None else int(access_ttl)
        self.scopes = None if scopes is None else list(scopes)
        self.redirect_uris = None if redirect_uris is None else list(redirect_uris)
        self.code_ttl, self.require_pkce = code_ttl, require_pkce
        # One entry per token request: {"grant_type", "ok", "error"} (the provider's error code);
        # `grant_details` the same with "why" (the fake's reason) and "client_auth" (how the
        # client sent its credentials: "basic", "form" or "json").
        self.grants: list[dict] = []
        self.grant_details: list[dict] = []
        self._lock = threading.Lock()
        self._offset = 0.0  # `advance` moves the fake's clock
        self._slow = 0.0
        self._failures: list[int] = []  # statuses the next token requests answer
        self._pending: dict[str, dict] = {}  # consent pages shown, by request id
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._server = None
        self._thread: threading.Thread | None = None
        self._routes = {("GET", self.dialect.authorize_path): self._authorize,
                        ("POST", self.dialect.authorize_path): self._decide,
                        ("POST", self.dialect.token_path): self._token}
        for route, answer in self.dialect.identity_routes().items():
            self._routes[route] = lambda request, answer=answer: answer(self, request)

    def __repr__(self) -> str:  # never the client secret
        return f"<FakeOAuthServer {self.kind} client_id={self.client_id!r} at {self._where()}>"

    def _where(self) -> str:
        return self.base_url if self._server is not None else "(not started)"

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "FakeOAuthServer":
        if self._server is not None:
            raise RuntimeError("the fake OAuth server is already running")
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.01}, daemon=True,
                                        name=f"fake-oauth-{self.kind}")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> "FakeOAuthServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- addresses ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("start the fake OAuth server first")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def authorize_url(self) -> str:
        return self.base_url + self.dialect.authorize_path

    @property
    def token_url(self) -> str:
        return self.base_url + self.dialect.token_path

    @property
    def api_base_url(self) -> str:
        return self.base_url + self.dialect.api_path

    @property
    def cloud_id(self) -> str | None:
        """Atlassian: the one site's cloud id that accessible-resources lists."""
        return getattr(self.dialect, "cloud_id", None)

    # --- knobs for tests ------------------------------------------------------------------------
    def slow_token_endpoint(self, seconds: float) -> None:
        """Hold every token request `seconds` before answering (makes refresh races visible)."""
        self._slow = float(seconds)

    def fail_token_requests(self, count: int = 1, status: int = 503) -> None:
        """The next `count` token requests answer `status` with an HTML error page (the provider
        is down), spending nothing; each is recorded with the error `http_<status>`."""
        with self._lock:
            self._failures = [status] * count

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward: codes and tokens expire as if time had passed."""
        with self._lock:
            self._offset += seconds

    def revoke_all(self) -> None:
        """The app is uninstalled: every code, access and refresh token stops working."""
        with self._lock:
            for token in (*self._access.values(), *self._refresh.values()):
                token.ended = token.ended or "revoked"
            for code in self._codes.values():
                code.used = True
            self._pending.clear()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (refresh tokens keep working)."""
        with self._lock:
            now = self._now()
            for token in self._access.values():
                token.expires_at = now - 1

    # --- what happened --------------------------------------------------------------------------
    @property
    def refresh_grants(self) -> int:
        """How many refresh_token grants succeeded."""
        with self._lock:
            return sum(1 for g in self.grants if g["grant_type"] == "refresh_token" and g["ok"])

    @property
    def issued_access_tokens(self) -> set[str]:
        with self._lock:
            return set(self._access)

    @property
    def valid_access_tokens(self) -> set[str]:
        with self._lock:
            return {t for t, state in self._access.items() if self._state(state) == "valid"}

    @property
    def issued_refresh_tokens(self) -> set[str]:
        with self._lock:
            return set(self._refresh)

    @property
    def valid_refresh_tokens(self) -> set[str]:
        with self._lock:
            return {t for t, state in self._refresh.items() if self._state(state) == "valid"}

    def access_token_state(self, token: str) -> tuple[str, list[str]]:
        """("valid" | "expired" | "revoked" | "unknown", its scopes): for identity endpoints."""
        with self._lock:
            record = self._access.get(token)
            return ("unknown", []) if record is None else (self._state(record), record.scopes)

    def access_token_expiry(self, token: str) -> datetime.datetime:
        with self._lock:
            stamp = self._access[token].expires_at - self._offset  # in real time
        return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)

    # --- the browser ----------------------------------------------------------------------------
    def consent(self, authorize_url: str, approve: bool = True) -> str:
        """Act as the person's browser: open `authorize_url` (which must point at this fake),
        approve or deny, and return the Location the fake redirects to (the hub's callback with
        `code` and `state`, or `error=access_denied`). Raises ConsentError if refused."""
        if not authorize_url.startswith(self.authorize_url + "?"):
            raise ConsentError(f"the authorize URL does not point at this fake's authorize "
                               f"endpoint {self.authorize_url}: {authorize_url.split('?')[0]}")
        http = urllib3.PoolManager()
        try:
            page = http.request("GET", authorize_url, redirect=False)
            if page.status != 200:
                raise ConsentError(page.data.decode("utf-8", "replace"))
            request_id = _CONSENT_FORM.search(page.data.decode()).group(1)
            answer = http.request(
                "POST", self.authorize_url, redirect=False,
                fields={"request": request_id, "decision": "approve" if approve else "deny"},
                encode_multipart=False)
        finally:
            http.clear()
        if answer.status != 302:
            raise ConsentError(answer.data.decode("utf-8", "replace"))
        return answer.headers["Location"]

    # --- HTTP -----------------------------------------------------------------------------------
    def _now(self) -> float:
        return time.time() + self._offset

    def _state(self, token: _Token) -> str:
        if token.ended:
            return "revoked"
        if token.expires_at is not None and token.expires_at <= self._now():
            return "expired"
        return "valid"

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        handler = self._routes.get((request.method, request.path))
        if handler is None:
            response = Response("Not Found", status=404, content_type="text/plain")
        else:
            response = handler(request)
        return response(environ, start_response)

    def _authorize(self, request: Request) -> Response:
        args = request.args
        problem = self._authorize_problem(args)
        if problem:
            return Response(f"Invalid authorization request: {problem}.", status=400,
                            content_type="text/plain; charset=utf-8")
        request_id = secrets.token_urlsafe(16)
        scopes = self.dialect.requested_scopes(args) if self.scopes is None else self.scopes
        with self._lock:
            self._pending[request_id] = {
                "redirect_uri": args["redirect_uri"], "state": args["state"],
                "challenge": args.get("code_challenge", ""), "scopes": list(scopes)}
        return Response(
            f"<html><body><h1>Allow access?</h1><form method=\"post\">"
            f"<input type=\"hidden\" name=\"request\" value=\"{html.escape(request_id)}\">"
            f"<button name=\"decision\" value=\"approve\">Allow</button>"
            f"<button name=\"decision\" value=\"deny\">Cancel</button></form></body></html>",
            content_type="text/html; charset=utf-8")

    def _authorize_problem(self, args) -> str | None:
        if not args.get("client_id"):
            return "client_id is missing"
        if args["client_id"] != self.client_id:
            return f"client_id {args['client_id']!r} is not this app's"
        redirect_uri = args.get("redirect_uri", "")
        parts = urllib.parse.urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            return "redirect_uri must be an absolute http(s) URL without a fragment"
        if self.redirect_uris is not None and redirect_uri not in self.redirect_uris:
            return f"redirect_uri {redirect_uri!r} is not registered for this app"
        if args.get("response_type") != "code":
            return "response_type must be code"
        if not args.get("state"):
            return "state is missing"
        if self.require_pkce or "code_challenge" in args:
            if args.get("code_challenge_method") != "S256":
                return "code_challenge_method must be S256"
            if not _CHALLENGE.fullmatch(args.get("code_challenge", "")):
                return "code_challenge must be a base64url SHA-256 digest (43 characters)"
        return self.dialect.scopes_problem(args)

    def _decide(self, request: Request) -> Response:
        with self._lock:
            pending = self._pending.pop(request.form.get("request", ""), None)
            if pending is None:
                return Response("This authorization request is unknown or already answered.",
                                status=400, content_type="text/plain")
            if request.form.get("decision") == "approve":
                code = self.dialect.new_code()
                self._codes[code] = _Code(self.client_id, pending["redirect_uri"],
                                          pending["challenge"], pending["scopes"],
                                          self._now() + self.code_ttl)
                params = {"code": code}
            else:
                params = self.dialect.denied_params()
        params["state"] = pending["state"]
        return Response("", status=302,
                        headers={"Location": _with_query(pending["redirect_uri"], params)})

    def _token(self, request: Request) -> Response:
        if self._slow:
            time.sleep(self._slow)
        with self._lock:
            status = self._failures.pop(0) if self._failures else None
            if status is not None:
                self._record(None, f"http_{status}", "fail_token_requests", None)
        if status is not None:
            return Response(f"<html><body><h1>{status}</h1></body></html>", status=status,
                            content_type="text/html; charset=utf-8")
        grant_type, client_auth = None, None
        try:
            params, client_id, secret, client_auth = self.dialect.token_params(request)
            grant_type = params.get("grant_type") or self.dialect.default_grant_type()
            with self._lock:
                self._authenticate(client_id, secret)
                if grant_type == "authorization_code":
                    tokens = self._exchange_code(params, client_id)
                elif grant_type == "refresh_token":
                    tokens = self._refresh_grant(params, client_id)
                else:
                    raise Refusal("bad_grant_type", f"grant_type {grant_type!r} is not supported")
                self._record(grant_type, None, None, client_auth)
        except Refusal as refusal:
            response, code = self.dialect.refusal(refusal, request)
            with self._lock:
                self._record(grant_type, code, refusal.why, client_auth)
            return response
        return self.dialect.token_answer(tokens, request)

    def _record(self, grant_type, error, why, client_auth) -> None:
        grant = {"grant_type": grant_type, "ok": error is None, "error": error}
        self.grants.append(grant)
        self.grant_details.append({**grant, "why": why, "client_auth": client_auth})

    def _authenticate(self, client_id, secret) -> None:
        if not client_id:
            raise Refusal("client_missing", "no client_id was sent")
        if client_id != self.client_id:
            raise Refusal("client_unknown", f"client_id {client_id!r} is not this app's")
        if not secret or not hmac.compare_digest(secret.encode(), self._client_secret.encode()):
            raise Refusal("bad_secret", "the client_secret is missing or wrong")

    def _exchange_code(self, params: dict, client_id: str) -> dict:
        code = self._codes.get(params.get("code") or "")
        if code is None or code.used or code.expires_at <= self._now() \
                or code.client_id != client_id:
            raise Refusal("bad_code", "the code is unknown, already used, expired or another "
                                      "client's")
        code.used = True  # single use, even when the rest of the request is wrong
        if params.get("redirect_uri") != code.redirect_uri:
            raise Refusal("redirect_mismatch", "redirect_uri differs from the authorize request's")
        if code.challenge or self.require_pkce:
            verifier = params.get("code_verifier") or ""
            if not _VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
                    _s256(verifier), code.challenge):
                raise Refusal("bad_verifier", "code_verifier is missing or does not match the "
                                              "code_challenge (S256)")
        offline = self.kind != "atlassian" or "offline_access" in code.scopes
        return self._issue(client_id, code.scopes, with_refresh=offline)

    def _refresh_grant(self, params: dict, client_id: str) -> dict:
        sent = params.get("refresh_token") or ""
        record = self._refresh.get(sent)
        if record is None or record.client_id != client_id or self._state(record) != "valid":
            raise Refusal("bad_refresh", "the refresh token is unknown, spent, expired, revoked "
                                         "or another client's")
        record.ended = "spent"  # rotation: the one sent is spent
        if self.dialect.refresh_revokes_access:
            for token in self._access.values():
                if token.ended is None and token.refresh == sent:
                    token.ended = "revoked"
        return self._issue(client_id, record.scopes, with_refresh=True)

    def _issue(self, client_id: str, scopes: list[str], *, with_refresh: bool) -> dict:
        now = self._now()
        access = self.dialect.new_access_token()
        refresh = self.dialect.new_refresh_token() if with_refresh else None
        self._access[access] = _Token(client_id, scopes, now + self.access_ttl, refresh=refresh)
        refresh_ttl = self.dialect.refresh_ttl
        if refresh:
            self._refresh[refresh] = _Token(client_id, scopes,
                                            None if refresh_ttl is None else now + refresh_ttl)
        return {"access_token": access, "refresh_token": refresh, "scopes": scopes,
                "expires_in": self.access_ttl, "refresh_expires_in": refresh_ttl}


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _with_query(url: str, params: dict) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parts.query), *params.items()])
    return urllib.parse.urlunsplit(parts._replace(query=query))

