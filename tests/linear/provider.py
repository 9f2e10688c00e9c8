"""Linear with the declarative check: a personal API key, checked with GraphQL `viewer`."""
from marshmallow import Schema, fields

from hub import AuthMethod, ErrorRule, Header, HttpCheck, Identity, Provider, RateLimit

class ApiKey(Schema):
    api_key = fields.String(required=True, metadata={"secret": True, "display_name": "API key",
                            "description": "Linear > Settings > Security & access > API keys."})
class LinearConfig(Schema):
    api_base_url = fields.URL(load_default="https://api.linear.app", metadata={
        "host": True, "display_name": "API base URL", "description": "Where Linear's API answers."})
CODE = "errors[].extensions.code"  # where Linear's GraphQL errors say what went wrong
CHECK = HttpCheck(
    "/graphql", method="POST", auth=Header("Authorization", "api_key"),  # no "Bearer" for keys
    json={"query": "{ viewer { id name email } }"},
    identity=Identity({"id": "data.viewer.id", "name": "data.viewer.name",
                       "email": "data.viewer.email"}, require_any=("id",)),
    errors=(ErrorRule("invalid_credentials", "Linear does not accept this API key: check that "
                      "it is whole and not revoked.", path=CODE, equals="AUTHENTICATION_ERROR"),
            ErrorRule("rate_limited", "Linear is rate limiting this API key: try again later.",
                      path=CODE, equals="RATELIMITED")),
    rate_limit=RateLimit(reset_header="X-RateLimit-Requests-Reset"))  # epoch milliseconds
PROVIDER = Provider(name="linear", display_name="Linear", description="Linear, as a user.",
                    version="1.0.0", config_schema=LinearConfig,
                    auth_methods=(AuthMethod("api_key", "API key", ApiKey, check=CHECK),))
