"""What clients see of a provider: JSON Schema and UI metadata derived from its marshmallow schemas.

The plugin declares each field once, as a marshmallow field with the metadata keys listed in
`hub.sdk`; everything here is derived from that, so the schemas a client reads are the ones
the hub validates with. apispec's marshmallow converter does the field -> JSON Schema mapping; the
hub adds what apispec does not know: `secret` -> `writeOnly`, `display_name` -> `title`, URLs as
the standard `uri` format, closed objects and required lists in declaration order.

The `type` and `sensitivity` vocabularies of `authMetadata` and the derived `uiHint` defaults are
documented in docs/plugins.md ("What clients see").
"""
from __future__ import annotations

from typing import Any

import marshmallow
from apispec.ext.marshmallow.field_converter import DEFAULT_FIELD_MAPPING
from apispec.ext.marshmallow.openapi import OpenAPIConverter

from hub.sdk import AuthMethod, Provider

# OpenAPI 3.1 schema objects are JSON Schema 2020-12 (a nullable field is `"type": [..., "null"]`).
_OPENAPI_VERSION = "3.1.0"


class _JsonSchemaConverter(OpenAPIConverter):
    # apispec writes `format: url`, which JSON Schema does not define; `uri` is the standard name.
    field_mapping = {**DEFAULT_FIELD_MAPPING, marshmallow.fields.URL: ("string", "uri")}

    def __init__(self):
        # No spec: a resolver that names nothing makes nested schemas inline instead of $refs.
        super().__init__(_OPENAPI_VERSION, schema_name_resolver=lambda schema: None, spec=None)
        self.add_attribute_function(_hub_metadata_to_properties)


def _hub_metadata_to_properties(self, field: marshmallow.fields.Field, ret: dict, **kwargs) -> dict:
    properties = {}
    if field.metadata.get("display_name") and "title" not in ret:
        properties["title"] = field.metadata["display_name"]
    if field.metadata.get("secret"):
        properties["writeOnly"] = True
    return properties


def input_fields(schema_cls: type[marshmallow.Schema]) -> list[tuple[str, marshmallow.fields.Field]]:
    """(name on the wire, field) for every field a client sends, in declaration order."""
    schema = schema_cls()
    return [(field.data_key or attr, field) for attr, field in schema.load_fields.items()]


def secret_fields(schema_cls: type[marshmallow.Schema]) -> list[str]:
    """Names of the fields whose values are credentials: never returned, `writeOnly`."""
    return [name for name, field in input_fields(schema_cls) if field.metadata.get("secret")]


def host_fields(schema_cls: type[marshmallow.Schema]) -> list[str]:
    """Names of the fields that choose the server credentials are sent to (metadata host=True)."""
    return [name for name, field in input_fields(schema_cls) if field.metadata.get("host")]


def json_schema(schema_cls: type[marshmallow.Schema]) -> dict[str, Any]:
    """The JSON Schema of the object a marshmallow schema loads."""
    schema = schema_cls()
    fields = input_fields(schema_cls)
    converter = _JsonSchemaConverter()
    result: dict[str, Any] = {"type": "object"}
    meta = getattr(schema_cls, "Meta", None)
    for option in ("title", "description"):
        if getattr(meta, option, None):
            result[option] = getattr(meta, option)
    result["properties"] = {name: _property(converter, field) for name, field in fields}
    result["required"] = [name for name, field in fields if field.required]
    # EXCLUDE drops unknown keys on load, so sending them is pointless too: only INCLUDE is open.
    result["additionalProperties"] = schema.unknown == marshmallow.INCLUDE
    return result


def _property(converter: _JsonSchemaConverter, field: marshmallow.fields.Field) -> dict[str, Any]:
    prop = converter.field2property(field)
    if field.metadata.get("secret"):
        prop.pop("default", None)  # a secret field's default is not for clients to read either
    return prop


def parameters_metadata(schema_cls: type[marshmallow.Schema]) -> list[dict[str, Any]]:
    """One UI description per field: `parametersMetadata` of API.md."""
    properties = json_schema(schema_cls)["properties"]
    return [_parameter_metadata(index, name, field, properties[name])
            for index, (name, field) in enumerate(input_fields(schema_cls))]


def _parameter_metadata(index: int, name: str, field: marshmallow.fields.Field,
                        prop: dict) -> dict[str, Any]:
    metadata = field.metadata
    secret = bool(metadata.get("secret"))
    type_ = _json_type(prop)
    options = metadata.get("options")
    if options is None and prop.get("enum"):
        options = [value for value in prop["enum"] if value is not None]
    return {
        "name": name,
        "index": index,
        "type": type_,
        "displayName": metadata.get("display_name") or name.replace("_", " ").capitalize(),
        "description": metadata.get("description", ""),
        "required": bool(field.required),
        "secret": secret,
        "defaultValue": prop.get("default"),  # never set for a secret field (see _property)
        "options": list(options) if options is not None else None,
        "uiHint": metadata.get("ui_hint") or _derived_ui_hint(field, type_, secret, options, prop),
    }


def _json_type(prop: dict) -> str:
    type_ = prop.get("type")
    if isinstance(type_, list):  # nullable: ["string", "null"]
        type_ = next((t for t in type_ if t != "null"), None)
    return type_ or "string"  # fields.Raw has no JSON type; a UI offers a text box


def _derived_ui_hint(field, type_: str, secret: bool, options, prop: dict) -> str:
    if secret:
        return "password"
    if options:
        return "select"
    if type_ == "boolean":
        return "checkbox"
    if field.metadata.get("host") or prop.get("format") == "uri":
        return "url"
    return "text"


def auth_type_of(method: AuthMethod) -> str:
    """How an auth method's credentials are shaped: "token", "basic" or "custom".

    Host fields (a base URL) are ignored: they say where, not who.
    """
    fields = [f for _, f in input_fields(method.credentials_schema) if not f.metadata.get("host")]
    secrets = sum(1 for f in fields if f.metadata.get("secret"))
    others = len(fields) - secrets
    if secrets == 1 and others == 0:
        return "token"
    if secrets == 1 and others == 1:
        return "basic"
    return "custom"


def sensitivity_of(method: AuthMethod) -> str:
    """"secret" when a credential field is write-only, else "sensitive" (still encrypted)."""
    return "secret" if secret_fields(method.credentials_schema) else "sensitive"


def config_metadata(provider: Provider) -> dict[str, Any]:
    """`config_metadata` of API.md: the config's fields, then each auth method's."""
    return {
        "parametersMetadata": parameters_metadata(provider.config_schema),
        "authMetadata": [
            {
                "id": method.id,
                "displayName": method.display_name,
                "description": method.description,
                "type": auth_type_of(method),
                "sensitivity": sensitivity_of(method),
                "configTestSupported": provider.verify is not None,
                "parametersMetadata": parameters_metadata(method.credentials_schema),
            }
            for method in provider.auth_methods
        ],
    }


def describe_provider(provider: Provider) -> dict[str, Any]:
    """The JSON object of `GET /v1/providers/{provider}`."""
    default_id = provider.default_auth_method.id
    return {
        "name": provider.name,
        "display_name": provider.display_name,
        "description": provider.description,
        "version": provider.version,
        "package": provider.package,
        "verify_supported": provider.verify is not None,
        "auth_methods": [
            {
                "id": method.id,
                "display_name": method.display_name,
                "description": method.description,
                "default": method.id == default_id,
                "credentials_schema": json_schema(method.credentials_schema),
            } | _oauth_description(method)
            for method in provider.auth_methods
        ],
        "config_schema": json_schema(provider.config_schema),
        "config_metadata": config_metadata(provider),
    }


def _oauth_description(method) -> dict[str, Any]:
    """An OAuth method's scope vocabulary and defaults, for a UI that offers them when connecting
    (`POST .../integrations:connect`); nothing for other methods."""
    if getattr(method, "oauth", None) is None:
        return {}
    return {"oauth": {"scopes": dict(method.oauth.scopes),
                      "default_scopes": list(method.oauth.default_scopes)}}
