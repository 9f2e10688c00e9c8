"""Running a provider's check in a test exactly as the hub runs it, and linting its schemas.

`verify_credentials` goes through the hub's own containment (`hub.verification.run.run_check`), so
an exception escaping `verify`, an EgressError or a malformed result comes back as the same failed
result the API would answer: a plugin that passes its tests behaves the same inside the hub.
"""
from __future__ import annotations

import base64
import datetime
import json
from typing import Any

from hub.sdk import Provider, VerificationResult, VerifyError
from hub.verification.run import run_check

__all__ = ["assert_no_echo", "result_from_check", "undocumented_fields", "verify_credentials"]

# Shorter values (a region, "x") could appear in any message by chance: not looked for.
MIN_ECHO_LENGTH = 4


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


def assert_no_echo(result: VerificationResult, credentials: dict, *,
                   provider: Provider | None = None, auth_type: str | None = None) -> None:
    """Fail unless no credential value appears in the result: its error message, identity or
    scopes (as text, and base64-encoded, as basic auth sends it).

    `credentials` are the values the test sent. With `provider`, only the fields its schema marks
    `secret` are looked for (a Jira user name may well be the identity's email); without it,
    every value of `credentials` is. Values shorter than 4 characters are not looked for. The
    assertion's message names the field, never the value.
    """
    if provider is not None:
        schema = provider.method_for(auth_type).credentials_schema()
        secret = {name for name, field in schema.fields.items() if field.metadata.get("secret")}
        secret |= {schema.fields[name].data_key for name in secret if schema.fields[name].data_key}
        credentials = {key: value for key, value in credentials.items() if key in secret}
    shown = json.dumps({"message": result.error.message if result.error else None,
                        "identity": result.identity, "scopes": result.scopes},
                       default=str, ensure_ascii=False)
    for field, value in credentials.items():
        if not isinstance(value, str) or len(value.strip()) < MIN_ECHO_LENGTH:
            continue
        value = value.strip()
        forms = {value, json.dumps(value, ensure_ascii=False)[1:-1],
                 base64.b64encode(value.encode()).decode("ascii").rstrip("=")}
        assert not any(form in shown for form in forms), (
            f"the check's result echoes the credential {field!r} (in its message, identity or "
            "scopes): a result must never show a credential")
