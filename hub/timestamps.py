"""Timestamps as the hub writes and reads them: ISO 8601 in UTC ending in `Z`, to the
millisecond. Stored values are naive UTC (portable between SQLite and PostgreSQL); this is the one
place that turns them into text and back.
"""
from __future__ import annotations

import datetime

import marshmallow as ma


def naive_utc(moment: datetime.datetime) -> datetime.datetime:
    """The same moment as naive UTC (a naive value is taken to be UTC already)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment


def to_iso(moment: datetime.datetime | None) -> str | None:
    """`2026-12-01T07:28:52.123Z`; None stays None; a naive datetime is taken as UTC."""
    if moment is None:
        return None
    if not isinstance(moment, datetime.datetime):
        raise TypeError(f"expected a datetime, not {type(moment).__name__}")
    return naive_utc(moment).isoformat(timespec="milliseconds") + "Z"


def parse_iso(text: str | None) -> datetime.datetime | None:
    """Naive UTC from ISO 8601 text (`Z` or an offset; no offset means UTC); None or "" -> None.

    :raises ValueError: the text is not an ISO 8601 date-time.
    """
    if not text:
        return None
    return naive_utc(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")))


class Timestamp(ma.fields.DateTime):
    """A marshmallow field: `to_iso` out; in, any ISO 8601 date-time, an offset converted to UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        return to_iso(value)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return naive_utc(parsed)
        except OverflowError:  # the offset pushes it past year 1 or 9999
            raise ma.ValidationError("Out of range.") from None
