"""What provider plugin authors import: the provider declaration, the check's result, the HTTP
client protocol and helpers for reading provider answers.

Owns: `Provider`, `AuthMethod`, `VerificationResult`, `VerifyError`, `ERROR_CODES`, `HttpClient`,
`HttpResponse`, `retry_after`, `FullMatch` (a whole-value pattern validator), the OAuth
declaration (`OAuth`, `OAuthCredentials`, `OAuthToken`, `TokenRefusal`, `token_answer`, from
`hub.sdk.oauth`), and the declarative check (`HttpCheck` and its parts, from
`hub.sdk.checks`). May import: `hub.egress` (for `EgressError`) and nothing else of the
hub, so a plugin that imports it pulls in no Flask and no database.
"""
from hub.sdk.checks import (
    BaseUrl,
    Basic,
    Bearer,
    ErrorRule,
    Expiry,
    Header,
    HttpCheck,
    Identity,
    JsonBody,
    Query,
    RateLimit,
    Scopes,
    checks_verify,
)
from hub.sdk.http import EgressError, HttpClient, HttpResponse, retry_after
from hub.sdk.oauth import OAuth, OAuthCredentials, OAuthToken, TokenRefusal, token_answer
from hub.sdk.provider import AuthMethod, Provider, UnknownAuthMethod, VerifyFunction
from hub.sdk.results import ERROR_CODES, VerificationResult, VerifyError
from hub.sdk.validators import FullMatch

__all__ = ["AuthMethod", "Basic", "BaseUrl", "Bearer", "EgressError", "ERROR_CODES", "ErrorRule",
           "Expiry", "FullMatch", "Header", "HttpCheck", "HttpClient", "HttpResponse", "Identity",
           "JsonBody", "OAuth", "OAuthCredentials", "OAuthToken", "Provider", "Query", "RateLimit",
           "Scopes", "TokenRefusal", "UnknownAuthMethod", "VerificationResult", "VerifyError",
           "VerifyFunction", "checks_verify", "retry_after", "token_answer"]
