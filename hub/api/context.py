"""Per-request access to the caller and the app's shared services."""
from __future__ import annotations

import ipaddress
import logging

from flask import current_app, g, request

from hub import settings
from hub.oauth import refresh
from hub.services import build_services
from hub.tenancy import Principal, authenticate

log = logging.getLogger("hub.api")


def keyring():
    """The keyring; a hub that cannot open it raises KeyringUnavailable (a 503, logged)."""
    return current_app.extensions["hub.keyring"].get()


def providers():
    return current_app.extensions["hub.providers"]


def integration_services():
    # Checks that requests start run in the app's bounded pool, never on the request thread;
    # checks of stored OAuth credentials refresh a token that is due first.
    return build_services(keyring(), providers(), current_app.config,
                          check_pool=current_app.extensions["hub.check_pool"],
                          prepare_stored=refresh.before_check)


def principal() -> Principal:
    """The authenticated caller (401 otherwise), looked up once per request."""
    if "principal" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        g.principal = authenticate(keyring(), secret.strip() if scheme.lower() == "bearer" else None,
                                   request_id=g.get("request_id"), client_ip=client_ip())
    return g.principal


def authenticate_first() -> None:
    """On /v1, the caller's key before anything else: a request without a valid key is a 401
    before its body is parsed. Routes documented with no security (`@blp.doc(security=[])`, such
    as an OAuth callback, whose state is the capability), OPTIONS (which carries no body and no
    credentials in a CORS preflight) and paths no route matches are left to their answers."""
    if request.method == "OPTIONS" or not (request.path == "/v1" or request.path.startswith("/v1/")):
        return
    if request.url_rule is None:  # no such route or method: its 404 or 405, with no body read
        return
    if not _documented_public():
        principal()


def _documented_public() -> bool:
    # What a route documents does not change once the app serves: worked out once per route
    # and method (a dict per app).
    known = current_app.extensions.get("hub.public_routes")
    if known is None:
        known = current_app.extensions["hub.public_routes"] = {}
    route = (request.endpoint, request.method)
    public = known.get(route)
    if public is None:
        public = known[route] = _documents_no_security(request.endpoint, request.method)
    return public


def _documents_no_security(endpoint: str | None, method: str) -> bool:
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    method = "get" if method == "HEAD" else method.lower()
    handler = getattr(getattr(view, "view_class", None), method, None) or view
    return getattr(handler, "_apidoc", {}).get("manual_doc", {}).get("security") == []


def client_ip() -> str | None:
    """The caller's address as HUB_TRUSTED_PROXIES lets the hub believe it.

    Trusting none (the default), it is the connection's peer and X-Forwarded-For is ignored (any
    client can write one). With a count N it is the N-th address from the right of X-Forwarded-For
    (what werkzeug's ProxyFix(x_for=N) makes REMOTE_ADDR; the peer if the header has fewer). With
    networks, X-Forwarded-For is walked from the right, from a trusted peer, skipping trusted
    addresses: the first one not trusted is the client (all trusted: the leftmost).
    """
    peer = request.remote_addr
    trust = current_app.extensions.get("hub.trusted_proxies")
    if trust is None:
        trust = current_app.extensions["hub.trusted_proxies"] = settings.trusted_proxies(current_app.config)
    if not trust:
        return peer
    forwarded = [a.strip() for a in ",".join(request.headers.getlist("X-Forwarded-For")).split(",")]
    forwarded = [a for a in forwarded if a]
    if isinstance(trust, int):
        return forwarded[-trust] if len(forwarded) >= trust else peer
    if not _trusted(peer, trust):
        return peer
    believed = peer
    for address in reversed(forwarded):
        if not _valid(address):  # garbage a trusted proxy passed on: stop at the last good hop
            return believed
        believed = address
        if not _trusted(address, trust):
            return address
    return believed


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _trusted(address: str | None, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
