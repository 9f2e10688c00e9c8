"""Schema pieces shared by every resource: timestamps, paging arguments and page envelopes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from hub.sdk import FullMatch
from hub.storage.pagination import (
    CURSOR_PATTERN,
    DEFAULT_LIMIT,
    INTEGER_CURSOR_PATTERN,
    MAX_LIMIT,
    VERSION_CURSOR_PATTERN,
)
from hub.timestamps import Timestamp  # noqa: F401  (re-exported for the resources)

_NOT_A_CURSOR = "Not a cursor this API returned; start again without it."


def _cursor(pattern: str) -> ma.fields.String:
    return ma.fields.String(load_default=None, validate=FullMatch(pattern, error=_NOT_A_CURSOR),
                            metadata={"description": "The `next_cursor` of the previous page."})


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT,
                              validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = _cursor(CURSOR_PATTERN)


class IntegerPageArgs(PageArgs):
    """For lists keyed by an integer (audit sequence numbers)."""

    cursor = _cursor(INTEGER_CURSOR_PATTERN)


class VersionPageArgs(PageArgs):
    """For a secret's versions, keyed by version number."""

    cursor = _cursor(VERSION_CURSOR_PATTERN)


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The list envelope {items, next_cursor, has_more} around one resource's schema."""
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "next_cursor": ma.fields.String(allow_none=True, required=True),
        "has_more": ma.fields.Boolean(required=True),
    })


def always_present(*optional: str):
    """A response schema's class decorator: every field is in every response, so the document
    lists it as `required` (generated clients then type it as present), except those named."""
    def mark(schema_cls: type[ma.Schema]) -> type[ma.Schema]:
        for name, field in schema_cls._declared_fields.items():
            field.required = name not in optional
        return schema_cls
    return mark


# A project named in a body: its handle or its id (whether it exists is the domain's question).
PROJECT_REF_PATTERN = (r"^(?:[a-z0-9][a-z0-9-]{1,62}|"
                       r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


def ProjectRef(**kwargs) -> ma.fields.String:  # noqa: N802 (reads as a field class)
    return ma.fields.String(validate=FullMatch(PROJECT_REF_PATTERN,
                                               error="Give a project handle or id."), **kwargs)


class WholeNumber(ma.fields.Integer):
    """An integer as JSON Schema has it: 3 or 3.0, never "3", true or 3.5 (marshmallow's strict
    Integer refuses 3.0, which every JSON Schema validator calls an integer)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)
