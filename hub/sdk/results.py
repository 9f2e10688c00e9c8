"""What a provider's check returns: a `VerificationResult`, and the error codes it may name."""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any

ERROR_CODES = (
    "invalid_credentials",
    "expired",
    "revoked",
    "insufficient_scope",
    "rate_limited",
    "unreachable",
    "timeout",
    "blocked_address",
    "provider_error",
)


@dataclasses.dataclass(frozen=True)
class VerifyError:
    code: str  # one of ERROR_CODES
    message: str  # for a person; never echoes the provider's body or a credential
    retry_after: int | None = None  # seconds, for rate_limited (the hub keeps 0 to 86,400)


@dataclasses.dataclass(frozen=True)
class VerificationResult:
    """What a check found. `checked_at` and `duration_ms` are added by the hub."""

    ok: bool
    identity: dict[str, Any] | None = None
    scopes: list[str] | None = None
    # When the stored credential itself expires (aware, UTC); becomes the integration's expires_at.
    # Not the expiry of a token the check minted with it: put that in identity (docs/plugins.md).
    expires_at: datetime.datetime | None = None
    error: VerifyError | None = None

    @classmethod
    def success(cls, identity=None, scopes=None, expires_at=None) -> "VerificationResult":
        return cls(ok=True, identity=identity, scopes=scopes, expires_at=expires_at)

    @classmethod
    def failure(cls, code: str, message: str, retry_after: int | None = None,
                identity=None, scopes=None, expires_at=None) -> "VerificationResult":
        if code not in ERROR_CODES:
            raise ValueError(f"unknown verification error code {code!r}; use one of {ERROR_CODES}")
        return cls(ok=False, identity=identity, scopes=scopes, expires_at=expires_at,
                   error=VerifyError(code, message, retry_after))
