"""JSON Schema and UI metadata derived from a provider's marshmallow schemas."""
import marshmallow
from marshmallow import Schema, fields, validate

from hub.plugins.describe import (
    auth_type_of,
    config_metadata,
    describe_provider,
    host_fields,
    json_schema,
    parameters_metadata,
    secret_fields,
    sensitivity_of,
)
from hub.sdk import AuthMethod, Provider, VerificationResult


class TokenCredentials(Schema):
    token = fields.String(required=True, metadata={
        "secret": True, "display_name": "Token", "description": "A bot token."})


class BasicCredentials(Schema):
    base_url = fields.URL(required=True, metadata={"host": True})
    username = fields.String(required=True)
    api_token = fields.String(required=True, metadata={"secret": True})


class AppCredentials(Schema):
    app_id = fields.Integer(required=True)
    private_key = fields.String(required=True, metadata={"secret": True, "ui_hint": "textarea"})
    installation_id = fields.Integer()


class ExampleConfig(Schema):
    api_base_url = fields.URL(load_default="https://api.example.com", metadata={
        "host": True, "display_name": "API base URL"})
    channel = fields.String(data_key="default_channel", metadata={"description": "Where to post"})
    region = fields.String(validate=validate.OneOf(["eu", "us"]), load_default="eu")
    plan = fields.String(metadata={"options": ["free", "pro"]})
    dry_run = fields.Boolean(load_default=False)
    computed = fields.String(dump_only=True)


def verify(auth_type, credentials, config, http):
    return VerificationResult.success()


PROVIDER = Provider(
    name="example", display_name="Example", description="An example.", version="2.0",
    auth_methods=(AuthMethod("token", "Token", TokenCredentials, "A token."),
                  AuthMethod("basic", "Basic", BasicCredentials, default=True),
                  AuthMethod("app", "App", AppCredentials)),
    config_schema=ExampleConfig, verify=verify, package="hub-example")


def test_credentials_schema_is_a_closed_object_with_secrets_write_only():
    assert json_schema(TokenCredentials) == {
        "type": "object",
        "properties": {"token": {"type": "string", "title": "Token", "description": "A bot token.",
                                 "writeOnly": True}},
        "required": ["token"],
        "additionalProperties": False,
    }


def test_config_schema_uses_wire_names_formats_defaults_and_enums():
    schema = json_schema(ExampleConfig)
    assert list(schema["properties"]) == ["api_base_url", "default_channel", "region", "plan",
                                          "dry_run"]  # declaration order; dump_only left out
    assert schema["properties"]["api_base_url"] == {
        "type": "string", "format": "uri", "default": "https://api.example.com",
        "title": "API base URL"}
    assert schema["properties"]["default_channel"] == {"type": "string",
                                                       "description": "Where to post"}
    assert schema["properties"]["region"] == {"type": "string", "enum": ["eu", "us"],
                                              "default": "eu"}
    assert schema["properties"]["dry_run"] == {"type": "boolean", "default": False}
    assert schema["required"] == []
    assert schema["additionalProperties"] is False


def test_a_secret_fields_default_is_not_shown():
    class WithDefault(Schema):
        password = fields.String(load_default="hunter2", allow_none=True, metadata={"secret": True})

    assert json_schema(WithDefault)["properties"]["password"] == {
        "type": ["string", "null"], "writeOnly": True}
    assert parameters_metadata(WithDefault)[0]["defaultValue"] is None


def test_only_an_include_schema_is_open():
    class Open(Schema):
        class Meta:
            unknown = marshmallow.INCLUDE
            title = "Open"

        name = fields.String()

    schema = json_schema(Open)
    assert schema["additionalProperties"] is True
    assert schema["title"] == "Open"


def test_secret_and_host_fields():
    assert secret_fields(BasicCredentials) == ["api_token"]
    assert host_fields(BasicCredentials) == ["base_url"]
    assert secret_fields(ExampleConfig) == []
    assert host_fields(ExampleConfig) == ["api_base_url"]


def test_parameters_metadata():
    by_name = {p["name"]: p for p in parameters_metadata(ExampleConfig)}
    assert [p["index"] for p in parameters_metadata(ExampleConfig)] == [0, 1, 2, 3, 4]
    assert by_name["api_base_url"] == {
        "name": "api_base_url", "index": 0, "type": "string", "displayName": "API base URL",
        "description": "", "required": False, "secret": False,
        "defaultValue": "https://api.example.com", "options": None, "uiHint": "url"}
    assert by_name["default_channel"]["displayName"] == "Default channel"
    assert by_name["default_channel"]["description"] == "Where to post"
    assert by_name["region"]["options"] == ["eu", "us"]
    assert by_name["region"]["uiHint"] == "select"
    assert by_name["plan"]["options"] == ["free", "pro"]
    assert by_name["dry_run"]["type"] == "boolean"
    assert by_name["dry_run"]["uiHint"] == "checkbox"
    assert by_name["dry_run"]["defaultValue"] is False


def test_secret_parameters_are_passwords_unless_the_plugin_says_otherwise():
    token, = parameters_metadata(TokenCredentials)
    assert token["secret"] is True and token["required"] is True
    assert token["uiHint"] == "password"
    assert token["defaultValue"] is None
    by_name = {p["name"]: p for p in parameters_metadata(AppCredentials)}
    assert by_name["private_key"]["uiHint"] == "textarea"
    assert by_name["app_id"]["type"] == "integer"


def test_auth_type_and_sensitivity():
    token, basic, app = PROVIDER.auth_methods
    assert auth_type_of(token) == "token"
    assert auth_type_of(basic) == "basic"  # the host field says where, not who
    assert auth_type_of(app) == "custom"
    assert sensitivity_of(token) == "secret"

    class Plain(Schema):
        account = fields.String()

    assert sensitivity_of(AuthMethod("plain", "Plain", Plain)) == "sensitive"


def test_config_metadata_has_the_shape_of_the_contract():
    metadata = config_metadata(PROVIDER)
    assert set(metadata) == {"parametersMetadata", "authMetadata"}
    assert [p["name"] for p in metadata["parametersMetadata"]] == [
        "api_base_url", "default_channel", "region", "plan", "dry_run"]
    for parameter in metadata["parametersMetadata"]:
        assert set(parameter) == {"name", "index", "type", "displayName", "description",
                                  "required", "secret", "defaultValue", "options", "uiHint"}
    token = metadata["authMetadata"][0]
    assert token == {
        "id": "token", "displayName": "Token", "description": "A token.", "type": "token",
        "sensitivity": "secret", "configTestSupported": True,
        "parametersMetadata": parameters_metadata(TokenCredentials)}
    assert [m["id"] for m in metadata["authMetadata"]] == ["token", "basic", "app"]


def test_describe_provider():
    described = describe_provider(PROVIDER)
    assert list(described) == ["name", "display_name", "description", "version", "package",
                               "verify_supported", "auth_methods", "config_schema",
                               "config_metadata"]
    assert described["name"] == "example"
    assert described["package"] == "hub-example"
    assert described["verify_supported"] is True
    assert described["auth_methods"][1] == {
        "id": "basic", "display_name": "Basic", "description": "", "default": True,
        "credentials_schema": json_schema(BasicCredentials)}
    assert [m["default"] for m in described["auth_methods"]] == [False, True, False]
    assert described["config_schema"] == json_schema(ExampleConfig)
    assert described["config_metadata"] == config_metadata(PROVIDER)


def test_without_a_marked_default_the_first_method_is_the_default():
    import dataclasses

    provider = dataclasses.replace(PROVIDER, auth_methods=(
        AuthMethod("token", "Token", TokenCredentials), AuthMethod("app", "App", AppCredentials)),
        verify=None)
    described = describe_provider(provider)
    assert [m["default"] for m in described["auth_methods"]] == [True, False]
    assert described["verify_supported"] is False
    assert described["config_metadata"]["authMetadata"][0]["configTestSupported"] is False


def test_nested_fields_are_inlined():
    class Inner(Schema):
        key = fields.String(required=True, metadata={"secret": True})

    class Outer(Schema):
        inner = fields.Nested(Inner, required=True)
        tags = fields.List(fields.String())

    schema = json_schema(Outer)
    assert schema["properties"]["inner"]["properties"]["key"]["writeOnly"] is True
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
