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
