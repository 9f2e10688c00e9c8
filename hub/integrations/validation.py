"""Checking what a caller sends about an integration against its provider's declaration."""
from __future__ import annotations

import json
import re

import marshmallow

from hub.errors import Conflict, InvalidInput, flatten_messages, invalid_field
from hub.plugins import ProviderRegistry
from hub.plugins.describe import host_fields
from hub.sdk import AuthMethod, Provider, UnknownAuthMethod
from hub.storage.models import Integration

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def provider_named(registry: ProviderRegistry, name: str) -> Provider:
    provider = registry.get(name)
    if provider is None:
        known = ", ".join(registry.names()) or "none are loaded"
        raise invalid_field("provider", f"Unknown provider '{name}'. Known providers: {known}.")
    return provider


def loaded_provider(registry: ProviderRegistry, row: Integration) -> Provider:
    provider = registry.get(row.provider)
    if provider is None:
        raise Conflict(f"The provider '{row.provider}' of this integration is not loaded on this hub; "
                       "'hub providers list' shows which plugins loaded and why others failed.")
    return provider


def _json_safe(value):
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def validate_against(schema_cls: type[marshmallow.Schema], data, field: str) -> dict:
    """Load `data` with a provider's schema; errors are named `<field>.<name>`."""
    if not isinstance(data, dict):
        raise invalid_field(field, "Must be an object.")
    try:
        loaded = schema_cls().load(data)
    except marshmallow.ValidationError as exc:
        errors = flatten_messages(exc.messages, field)
        raise InvalidInput(f"The {field} do not fit the provider's schema: {', '.join(sorted(errors))}.",
                           errors=errors) from None
    return _json_safe(loaded)


def auth_method_for(provider: Provider, auth_type: str | None) -> AuthMethod:
    """The provider's auth method of that id (None: its default); else a 400 naming the known ones."""
    try:
        return provider.method_for(auth_type)
    except UnknownAuthMethod as exc:
        raise invalid_field("auth_type", str(exc)) from None


def refuse_host_change_without_credentials(provider: Provider, old_config: dict, new_config: dict) -> None:
    """A stored token must not be redirected to a server of a writer's choosing."""
    for name in host_fields(provider.config_schema):
        if new_config.get(name) != old_config.get(name):
            raise invalid_field(f"config.{name}", "Changing the server this integration talks to "
                                "requires sending its credentials again in the same request.")


def normalized_tags(tags) -> list[str]:
    return sorted(set(tags or ()))
