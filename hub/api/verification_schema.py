import marshmallow as ma

from hub.api.fields import always_present
from hub.sdk import ERROR_CODES


@always_present("retry_after")
class VerificationErrorSchema(ma.Schema):
    code = ma.fields.String(metadata={"enum": list(ERROR_CODES)})
    message = ma.fields.String()
    retry_after = ma.fields.Integer(allow_none=True)


@always_present()
class VerificationResultSchema(ma.Schema):
    """A provider check's outcome: 200 whenever the check ran, whatever it found."""

    ok = ma.fields.Boolean()
    checked_at = ma.fields.String(metadata={"format": "date-time"})
    duration_ms = ma.fields.Integer()
    identity = ma.fields.Dict(allow_none=True)
    scopes = ma.fields.List(ma.fields.String(), allow_none=True)
    expires_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    error = ma.fields.Nested(VerificationErrorSchema, allow_none=True)
