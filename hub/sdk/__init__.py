"""What provider plugin authors import: the provider declaration, the check's result, the HTTP
client protocol and helpers for reading provider answers.

Owns: `Provider`, `AuthMethod`, `VerificationResult`, `VerifyError`, `ERROR_CODES`, `HttpClient`,
`HttpResponse`, `retry_after`. May import: `hub.egress` (for `EgressError`) and nothing else of the
hub, so a plugin that imports it pulls in no Flask and no database.
"""
from hub.sdk.http import EgressError, HttpClient, HttpResponse, retry_after
from hub.sdk.provider import AuthMethod, Provider, UnknownAuthMethod, VerifyFunction
from hub.sdk.results import ERROR_CODES, VerificationResult, VerifyError

__all__ = ["AuthMethod", "EgressError", "ERROR_CODES", "HttpClient", "HttpResponse", "Provider", "UnknownAuthMethod",
           "VerificationResult", "VerifyError", "VerifyFunction", "retry_after"]
