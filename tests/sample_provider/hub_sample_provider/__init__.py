"""A sample hub provider: an API key checked against `GET {api_base_url}/whoami`."""
from marshmallow import Schema, fields

from hub import AuthMethod, Provider, VerificationResult, hookimpl, retry_after

DEFAULT_API_BASE_URL = "https://api.sample.example"


class ApiKeyCredentials(Schema):
    api_key = fields.String(required=True, metadata={
        "secret": True,
        "display_name": "API key",
        "description": "A key from the Sample console, under Settings > API keys.",
    })


class SampleConfig(Schema):
    api_base_url = fields.URL(load_default=DEFAULT_API_BASE_URL, require_tld=False, metadata={
        "host": True,
        "display_name": "API base URL",
        "description": "Where the Sample API answers; change it for a self-hosted Sample.",
    })


def verify(auth_type, credentials, config, http):
    base = (config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")
    response = http.request("GET", f"{base}/whoami",
                            headers={"Authorization": f"Bearer {credentials['api_key']}"})
    if response.status == 200:
        body = response.json()
        return VerificationResult.success(identity={"user": body.get("user")},
                                          scopes=body.get("scopes"))
    if response.status == 401:
        return VerificationResult.failure("invalid_credentials", "Sample did not accept the API key")
    if response.status == 429:
        return VerificationResult.failure("rate_limited", "Sample is rate limiting the hub",
                                          retry_after=retry_after(response.headers))
    return VerificationResult.failure("provider_error", f"Sample answered HTTP {response.status}")


PROVIDER = Provider(
    name="sample",
    display_name="Sample",
    description="A sample provider that checks an API key.",
    version="0.1.0",
    auth_methods=(AuthMethod(id="api_key", display_name="API key",
                             credentials_schema=ApiKeyCredentials, default=True),),
    config_schema=SampleConfig,
    verify=verify,
)


@hookimpl
def hub_register_providers(register):
    register(PROVIDER)
