"""What the hub keeps of a provider's answer: every verification result is cut to documented
sizes here, before it is stored (`last_verification`) or returned, whichever plugin made it.

A provider (or a server posing as one at an address an API user chose) decides what a check
reads: a 500,000-character user name, 20,000 scopes or a 400-digit Retry-After must not become a
record that large, so:

- `identity`: at most `MAX_IDENTITY_KEYS` keys (the first ones), each key cut to
  `MAX_IDENTITY_KEY_LENGTH` characters; values are flat JSON scalars: a string is cut to
  `MAX_IDENTITY_LENGTH` characters, an integer beyond JSON's exact range (±2**53) becomes its
  digits as a string (cut the same way), a float that is not finite, an object or a list becomes
  null;
- `scopes`: at most `MAX_SCOPES`, each cut to `MAX_SCOPE_LENGTH` characters;
- `error.message`: at most `MAX_MESSAGE_LENGTH` characters (cut ones end with "...");
- `error.retry_after`: a whole number of seconds from 0 to `MAX_RETRY_AFTER` (a day), or absent
  when it is no number.

The numbers are documented for plugin authors in docs/plugins.md ("What the hub keeps of a
result") and in the OpenAPI document's verification result.
"""
from __future__ import annotations

import math
from typing import Any

from hub.sdk.checks import MAX_IDENTITY_LENGTH

MAX_IDENTITY_KEYS = 32
MAX_IDENTITY_KEY_LENGTH = 64
MAX_SCOPES = 200
MAX_SCOPE_LENGTH = 128
MAX_MESSAGE_LENGTH = 500
MAX_RETRY_AFTER = 86_400
_JSON_EXACT_INT = 2 ** 53
_CUT = "..."

__all__ = ["MAX_IDENTITY_KEYS", "MAX_IDENTITY_KEY_LENGTH", "MAX_IDENTITY_LENGTH", "MAX_MESSAGE_LENGTH",
           "MAX_RETRY_AFTER", "MAX_SCOPES", "MAX_SCOPE_LENGTH", "clamp_result", "clamp_retry_after"]


def clamp_result(outcome: dict[str, Any]) -> dict[str, Any]:
    """The result (or the outcome part of one) with identity, scopes and error cut to size."""
    clamped = dict(outcome)
    if clamped.get("identity") is not None:
        clamped["identity"] = _identity(clamped["identity"])
    if clamped.get("scopes") is not None:
        clamped["scopes"] = [str(scope)[:MAX_SCOPE_LENGTH] for scope in clamped["scopes"][:MAX_SCOPES]]
    error = clamped.get("error")
    if error is not None:
        error = {"code": error["code"], "message": clamp_message(error.get("message"))}
        retry_after = clamp_retry_after(outcome["error"].get("retry_after"))
        if retry_after is not None:
            error["retry_after"] = retry_after
        clamped["error"] = error
    return clamped


def clamp_message(message: Any) -> str:
    text = str(message)
    if len(text) <= MAX_MESSAGE_LENGTH:
        return text
    return text[:MAX_MESSAGE_LENGTH - len(_CUT)] + _CUT


def clamp_retry_after(value: Any) -> int | None:
    """Whole seconds within 0..MAX_RETRY_AFTER, or None for what is no number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return MAX_RETRY_AFTER if value > 0 else 0
        value = math.ceil(value)
    if not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            return None
    return min(max(value, 0), MAX_RETRY_AFTER)


def _identity(identity: dict) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in identity.items():
        if len(kept) >= MAX_IDENTITY_KEYS:
            break
        name = str(key)[:MAX_IDENTITY_KEY_LENGTH]
        if name not in kept:  # two keys that are one once cut: the first stays
            kept[name] = _identity_value(value)
    return kept


def _identity_value(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if -_JSON_EXACT_INT <= value <= _JSON_EXACT_INT:
            return value
        return _digits(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:MAX_IDENTITY_LENGTH]
    return None  # an object or a list is no identity value (as in HttpCheck's identity)


def _digits(value: int) -> str | None:
    try:
        return str(value)[:MAX_IDENTITY_LENGTH]
    except ValueError:  # more digits than Python converts (4,300): no identity anyone reads
        return None
