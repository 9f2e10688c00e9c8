"""The format of API key identifiers and secrets.

`hub_pk_<16 base62>` is the public id. `hub_sk_<32 base62><6 base62 CRC32>` is the secret: the
checksum (as in GitHub's tokens) lets secret scanners, and the hub before any database lookup,
reject a mistyped or random string. The secret carries about 190 bits of randomness.
"""
from __future__ import annotations

import re
import secrets
import zlib

PUBLIC_PREFIX = "hub_pk_"
SECRET_PREFIX = "hub_sk_"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SECRET_RE = re.compile(r"^hub_sk_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$")


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(_BASE62) for _ in range(length))


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(f"{SECRET_PREFIX}{body}".encode()), 6)


def new_public_id() -> str:
    return PUBLIC_PREFIX + _random_base62(16)


def new_secret() -> str:
    body = _random_base62(32)
    return f"{SECRET_PREFIX}{body}{_checksum(body)}"


def is_well_formed_secret(value: str) -> bool:
    match = _SECRET_RE.fullmatch(value)
    return bool(match) and _checksum(match.group(1)) == match.group(2)
