"""Validators for provider schemas (and the hub's own).

`FullMatch` is marshmallow's `Regexp` that matches the whole value: with `re.match` a pattern
`^[a-z]+$` accepts "web\\n", since `$` also matches before a trailing newline. Patterns stay
written `^...$`, as JSON Schema (ECMA-262) reads them, for the documents built from the schema.
"""
from __future__ import annotations

from marshmallow import validate


class FullMatch(validate.Regexp):
    def __call__(self, value: str) -> str:
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise validate.ValidationError(self._format_error(value))
        return value
