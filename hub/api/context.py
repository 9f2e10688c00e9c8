"""Per-request access to the caller and the app's shared services."""
from __future__ import annotations

import logging

from flask import current_app, g, request

from hub.errors import KeyringUnavailable, Unavailable
from hub.services import build_services
from hub.tenancy import Principal, authenticate

log = logging.getLogger("hub.api")


def keyring():
    try:
        return current_app.extensions["hub.keyring"].get()
    except KeyringUnavailable as exc:
        # The operator's message (paths, what to do) goes to the log; callers learn only that the
        # hub is not usable right now.
        log.error("cannot open the keyring: %s", exc)
        raise Unavailable("The hub cannot open its encryption keyring; the operator must check its "
                          "root key (see the server log).") from None


def providers():
    return current_app.extensions["hub.providers"]


def integration_services():
    return build_services(keyring(), providers(), current_app.config)


def principal() -> Principal:
    """The authenticated caller (401 otherwise), looked up once per request."""
    if "principal" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        g.principal = authenticate(keyring(), secret.strip() if scheme.lower() == "bearer" else None)
    return g.principal
