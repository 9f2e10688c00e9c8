"""How a secret and its versions are shown (metadata only, never a value), for the API and the CLI
alike."""
import marshmallow as ma

from hub.secrets import store as secret_store
from hub.timestamps import Timestamp


def _always_present(schema_cls):
    """Every field is in every response: `required` in the OpenAPI document."""
    for field in schema_cls._declared_fields.values():
        field.required = True
    return schema_cls


@_always_present
class SecretVersionSchema(ma.Schema):
    version = ma.fields.Integer()
    state = ma.fields.String(metadata={"enum": list(secret_store.STATES)})
    sha256 = ma.fields.String(metadata={"description": (
        "Hex SHA-256 of json.dumps(values, sort_keys=True, separators=(',', ':'), "
        "ensure_ascii=False) in UTF-8: tells a change without showing a value. Unsalted (the "
        "contract's), so a key with secrets:read can confirm a guessed low-entropy value offline "
        "without secrets:access; store high-entropy values.")})
    created_at = Timestamp()
    state_changed_at = Timestamp()


@_always_present
class SecretSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    current_version = ma.fields.Integer(metadata={
        "description": "The newest version's number (what `cas` compares with)."})
    enabled_version = ma.fields.Integer(allow_none=True, metadata={
        "description": "The number of the version that is ENABLED (what resolve reads), or null."})
    created_at = Timestamp()
    updated_at = Timestamp()


@_always_present
class SecretWrittenSchema(SecretSchema):
    version = ma.fields.Nested(SecretVersionSchema, attribute="written_version", metadata={
        "description": "The version this request wrote."})
