"""Per-request access to the caller and the app's shared services."""
from __future__ import annotations

import dataclasses
import logging

from flask import current_app, g, request

from hub.services import build_services
from hub.tenancy import Principal, authenticate

log = logging.getLogger("hub.api")


def keyring():
    """The keyring; a hub that cannot open it raises KeyringUnavailable (a 503, logged)."""
    return current_app.extensions["hub.keyring"].get()


def providers():
    return current_app.extensions["hub.providers"]


def integration_services():
    return build_services(keyring(), providers(), current_app.config)


def principal() -> Principal:
    """The authenticated caller (401 otherwise), looked up once per request."""
    if "principal" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        caller = authenticate(keyring(), secret.strip() if scheme.lower() == "bearer" else None)
        g.principal = dataclasses.replace(caller, request_id=g.get("request_id"),
                                          client_ip=request.remote_addr)
    return g.principal
