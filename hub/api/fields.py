"""Schema pieces shared by every resource: timestamps, paging arguments and page envelopes."""
from __future__ import annotations

import datetime

import marshmallow as ma
from marshmallow import validate

from hub.pagination import DEFAULT_LIMIT, MAX_LIMIT


class Timestamp(ma.fields.DateTime):
    """ISO 8601 in UTC ending in Z. Stored values are naive UTC; an input offset is converted."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is not None:
            try:
                parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            except OverflowError:  # the offset pushes it past year 1 or 9999
                raise ma.ValidationError("Out of range.") from None
        return parsed


def to_iso(value: datetime.datetime | None) -> str | None:
    return Timestamp()._serialize(value, None, None)


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
