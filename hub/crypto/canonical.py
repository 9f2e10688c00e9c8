"""The one byte form of a JSON value that the hub seals, fingerprints and hashes.

Keys sorted, no spaces, UTF-8 without escaping: the same value always gives the same bytes, so a
fingerprint or a secret version's `sha256` changes exactly when the value does (API.md gives this
form for `sha256`: `json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`).
"""
from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
