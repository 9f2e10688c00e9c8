"""Schema pieces shared by every resource: timestamps, paging arguments and page envelopes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from hub.storage.pagination import DEFAULT_LIMIT, MAX_LIMIT
from hub.timestamps import Timestamp  # noqa: F401  (re-exported for the resources)


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT,
                              validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = ma.fields.String(load_default=None)


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
