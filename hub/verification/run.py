"""Running a provider's check: timed, shaped as the contract's verification result, contained.

Whatever a plugin's `verify` does, the caller gets the result dict of API.md: an EgressError from the
hub's HTTP client becomes a failed result with its code (`unreachable`, `timeout`,
`blocked_address`), and any other exception becomes `provider_error`. Such an exception's text is
neither returned nor logged, since it may quote a credential; only its type and where it was raised
are logged.

What a check answers is cut to documented sizes (`hub.verification.clamp`) before anyone stores or
returns it.

A provider that declares no `verify` cannot be checked: `run_check` raises
`VerificationNotSupported` (an `InvalidInput`, so a 400 in the API) rather than inventing a result.
"""
from __future__ import annotations

import datetime
import json
import logging
import time
import traceback
from typing import Any

from hub import metrics
from hub.egress import EgressError
from hub.errors import InvalidInput
from hub.integrations.validation import auth_method_for
from hub.sdk import ERROR_CODES, HttpClient, Provider, VerificationResult
from hub.timestamps import to_iso
from hub.verification.clamp import clamp_result

logger = logging.getLogger(__name__)


class VerificationNotSupported(InvalidInput):
    """The provider declares no check (`verify_supported` is false)."""


def run_check(provider: Provider, auth_type: str | None, credentials: dict,
              config: dict | None, http: HttpClient) -> dict[str, Any]:
    """Run the provider's check on these credentials and return the verification result.

    `credentials` and `config` are what the provider's schemas loaded (defaults filled in), which is
    what `verify` is promised.

    :param auth_type: one of the provider's auth method ids; None means its default method.
    :raises VerificationNotSupported: the provider has no check.
    :raises InvalidInput: the provider has no auth method of that id.
    """
    auth_type = checkable_method(provider, auth_type)
    checked_at = datetime.datetime.now(datetime.timezone.utc)
    started = time.perf_counter()
    try:
        # A malformed result (a date that is not a datetime, an identity that is not JSON) is the
        # plugin's error too, and is contained the same way as an exception it raises.
        outcome = _outcome_of_result(provider, provider.verify(auth_type, credentials, config or {}, http))
    except Exception as exc:
        outcome = _outcome_of_exception(provider, exc)
    metrics.count_check(provider.name, outcome["error"]["code"] if outcome["error"] else "ok")
    duration_ms = round((time.perf_counter() - started) * 1000)
    return {"ok": outcome.pop("ok"), "checked_at": to_iso(checked_at), "duration_ms": duration_ms,
            **outcome}


def checkable_method(provider: Provider, auth_type: str | None) -> str:
    """The id of the auth method a check of `provider` runs with (None: its default).

    :raises VerificationNotSupported: the provider has no check.
    :raises InvalidInput: the provider has no auth method of that id.
    """
    if provider.verify is None:
        raise VerificationNotSupported(
            f"Provider {provider.name!r} has no credential check (verify_supported is false).")
    return auth_method_for(provider, auth_type).id


def _outcome_of_result(provider: Provider, result: Any) -> dict[str, Any]:
    if not isinstance(result, VerificationResult):
        logger.error("the check of provider %r (package %s) returned a %s, not a "
                     "VerificationResult", provider.name, provider.package, type(result).__name__)
        return _failure("provider_error", _internal_error_message(provider))
    error = result.error
    if error is None and not result.ok:
        return _failure("provider_error", f"The {provider.display_name} check failed without "
                                          "saying why.")
    outcome = {
        "ok": error is None,
        "identity": dict(result.identity) if result.identity is not None else None,
        "scopes": [str(scope) for scope in result.scopes] if result.scopes is not None else None,
        "expires_at": to_iso(result.expires_at),
        "error": None,
    }
    if error is not None:
        code = error.code if error.code in ERROR_CODES else "provider_error"
        outcome["error"] = _error(code, str(error.message), error.retry_after)
    json.dumps(outcome)  # it is stored and returned as JSON: fail here, inside the containment
    return clamp_result(outcome)


def _outcome_of_exception(provider: Provider, exc: Exception) -> dict[str, Any]:
    if isinstance(exc, EgressError):  # its message names the host only, never the URL or a body
        code = exc.code if exc.code in ERROR_CODES else "provider_error"
        return _failure(code, exc.message)
    # The exception's text may quote what the plugin was handling (a token, a response body), so
    # only its type and the place it was raised go to the log.
    where = traceback.extract_tb(exc.__traceback__)[-1]
    logger.error("the check of provider %r (package %s) raised %s at %s:%s in %s()",
                 provider.name, provider.package, type(exc).__qualname__,
                 where.filename, where.lineno, where.name)
    return _failure("provider_error", _internal_error_message(provider))


def _internal_error_message(provider: Provider) -> str:
    return (f"The {provider.display_name} check failed with an error in the {provider.name!r} "
            "provider plugin; the hub's log names the error type.")


def _failure(code: str, message: str) -> dict[str, Any]:
    return clamp_result({"ok": False, "identity": None, "scopes": None, "expires_at": None,
                         "error": _error(code, message, None)})


def _error(code: str, message: str, retry_after: Any) -> dict[str, Any]:
    error = {"code": code, "message": message}
    if retry_after is not None:
        error["retry_after"] = retry_after
    return error
