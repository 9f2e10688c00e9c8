"""Running a provider's check in a test exactly as the hub runs it, and linting its schemas.

`verify_credentials` goes through the hub's own containment (`hub.verification.run.run_check`), so
an exception escaping `verify`, an EgressError or a malformed result comes back as the same failed
result the API would answer: a plugin that passes its tests behaves the same inside the hub.
"""
from __future__ import annotations

import datetime
from typing import Any

from hub.sdk import Provider, VerificationResult, VerifyError
from hub.verification.run import run_check

__all__ = ["result_from_check", "undocumented_fields", "verify_credentials"]


def verify_credentials(provider: Provider, credentials: dict, *, http,
                       auth_type: str | None = None,
                       config: dict | None = None) -> VerificationResult:
    """Check credentials as the hub does and return what it found as a VerificationResult.

    The credentials and config are loaded through the provider's schemas first (so a test also
    proves that the values it uses are valid input; a `marshmallow.ValidationError` says they are
    not), then handed to the hub's `run_check`. The result is rebuilt from the hub's answer:
    `expires_at` an aware UTC datetime to the millisecond, `error` a `VerifyError`.

    :raises ValueError: the provider has no auth method `auth_type`.
    :raises hub.verification.run.VerificationNotSupported: the provider declares no check.
    """
    method = provider.method_for(auth_type or None)  # UnknownAuthMethod is a ValueError
    loaded_credentials = method.credentials_schema().load(credentials)
    loaded_config = provider.config_schema().load(config or {})
    return result_from_check(run_check(provider, method.id, loaded_credentials, loaded_config, http))


def result_from_check(checked: dict[str, Any]) -> VerificationResult:
    """The VerificationResult that a verification result of the API (`run_check`'s dict) reads as."""
    error = checked.get("error")
    return VerificationResult(
        ok=checked["ok"],
        identity=checked.get("identity"),
        scopes=checked.get("scopes"),
        expires_at=_aware(checked.get("expires_at")),
        error=VerifyError(error["code"], error["message"], error.get("retry_after"))
        if error else None)


def _aware(text: str | None) -> datetime.datetime | None:
    if text is None:
        return None
    return datetime.datetime.fromisoformat(text)  # `...Z` reads as aware UTC


def undocumented_fields(provider: Provider) -> list[str]:
    """"schema.field" for every credential or config field lacking display_name or description
    metadata (a UI renders both); empty when all are documented."""
    schemas = [provider.config_schema] + [m.credentials_schema for m in provider.auth_methods]
    return [f"{schema.__name__}.{name}"
            for schema in schemas for name, field in schema().load_fields.items()
            if not (field.metadata.get("display_name") and field.metadata.get("description"))]
