"""What a provider plugin declares: the provider and its auth methods.

A plugin builds one `Provider` per third-party service and hands it to the `register` callback of
the `hub_register_providers` hook. The hub validates the declaration, derives the JSON Schemas and
UI metadata from the marshmallow schemas, and calls `verify` with decrypted credentials. An auth
method may declare its check instead (`AuthMethod(check=HttpCheck(...))`, hub.sdk.checks): the
Provider then makes `verify` from the checks, keeping a hand-written one for the other methods.

Marshmallow field metadata understood by the hub (all optional):
  secret: bool        the value is a credential: encrypted, never returned, `writeOnly` in JSON Schema
  display_name: str   label for a UI
  description: str    help text for a UI
  ui_hint: str        e.g. "password", "textarea", "url"
  options: list       allowed values, for a select box
  host: bool          the value chooses the server that credentials are sent to (a URL); changing it
                      without re-sending the credentials is refused
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import marshmallow

from hub.sdk.checks import HttpCheck, checks_verify
from hub.sdk.http import HttpClient
from hub.sdk.oauth import OAuth
from hub.sdk.results import VerificationResult


class UnknownAuthMethod(ValueError):
    """A provider has no auth method of the id asked for."""


@dataclasses.dataclass(frozen=True)
class AuthMethod:
    """One way to authenticate to a provider (a token, an app, basic auth ...)."""

    id: str
    display_name: str
    credentials_schema: type[marshmallow.Schema]
    description: str = ""
    default: bool = False
    # The declarative check of this method (hub.sdk.checks); None: the provider's verify checks it.
    check: HttpCheck | None = None
    # OAuth 2.0 (hub.sdk.oauth): people connect this method by consent; the hub runs the flow and
    # refreshes the tokens. Its credentials_schema is usually hub.sdk.OAuthCredentials.
    oauth: OAuth | None = None


VerifyFunction = Callable[[str, dict, dict, HttpClient], VerificationResult]
"""verify(auth_type, credentials, config, http) -> VerificationResult"""


@dataclasses.dataclass(frozen=True)
class Provider:
    """A third-party service whose credentials the hub keeps."""

    name: str  # ^[a-z][a-z0-9_-]{0,62}$, unique across all plugins
    display_name: str
    description: str
    version: str
    auth_methods: tuple[AuthMethod, ...]
    config_schema: type[marshmallow.Schema]
    verify: VerifyFunction | None = None
    # Filled in by the hub when it registers the provider: the distribution it came from.
    package: str | None = None

    def __post_init__(self):
        # With declared checks, `verify` is made from them (the hand-written one, if given, kept
        # for the methods without a check). Made again on dataclasses.replace, from the original.
        given = getattr(self.verify, "hub_fallback", self.verify)
        methods = self.auth_methods if isinstance(self.auth_methods, (tuple, list)) else ()
        if any(isinstance(m, AuthMethod) and m.check is not None for m in methods):
            object.__setattr__(self, "verify", checks_verify(self, given))
        elif given is not self.verify:
            object.__setattr__(self, "verify", given)

    @property
    def default_auth_method(self) -> AuthMethod:
        for method in self.auth_methods:
            if method.default:
                return method
        return self.auth_methods[0]

    def method_for(self, auth_type: str | None) -> AuthMethod:
        """The auth method of that id; None means the default one. The one rule the hub, its
        API and the test kit all resolve `auth_type` by.

        :raises UnknownAuthMethod: the provider has none of that id (the message names its own).
        """
        if auth_type is None:
            return self.default_auth_method
        method = self.auth_method(auth_type)
        if method is None:
            known = ", ".join(m.id for m in self.auth_methods)
            raise UnknownAuthMethod(f"Provider '{self.name}' has no auth method '{auth_type}'; use "
                                    f"one of: {known}.")
        return method

    def auth_method(self, auth_type: str) -> AuthMethod | None:
        for method in self.auth_methods:
            if method.id == auth_type:
                return method
        return None
