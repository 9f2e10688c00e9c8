"""Text that no database can store: NUL (PostgreSQL refuses it) and lone surrogates (not UTF-8;
JSON's "\\ud800" and undecodable command-line bytes both produce them)."""
from __future__ import annotations


def unstorable(text: str) -> str | None:
    """Why this text cannot be stored, or None."""
    if "\x00" in text:
        return "Must not contain NUL characters."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (it holds a lone surrogate)."
    return None
