"""hub: an integration hub that keeps third-party credentials encrypted and verified.

The public face. Plugin authors import `hookimpl` and the SDK's declarations from here (or from
`hub.sdk`); operators and tests build an app with `create_app`. Importing `hub` has no side
effects: no app, no database, no plugin loading.
"""
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from hub.hookspecs import hookimpl
from hub.sdk import (
    ERROR_CODES,
    AuthMethod,
    BaseUrl,
    Basic,
    Bearer,
    EgressError,
    ErrorRule,
    Expiry,
    Header,
    HttpCheck,
    HttpClient,
    HttpResponse,
    Identity,
    JsonBody,
    OAuth,
    OAuthCredentials,
    OAuthToken,
    Provider,
    Query,
    RateLimit,
    Scopes,
    TokenRefusal,
    VerificationResult,
    VerifyError,
    retry_after,
    token_answer,
)

try:
    __version__ = _version("hub")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["ERROR_CODES", "AuthMethod", "Basic", "BaseUrl", "Bearer", "EgressError", "ErrorRule",
           "Expiry", "Header", "HttpCheck", "HttpClient", "HttpResponse", "Identity", "JsonBody",
           "OAuth", "OAuthCredentials", "OAuthToken", "Provider", "Query", "RateLimit", "Scopes",
           "TokenRefusal", "VerificationResult", "VerifyError", "__version__", "create_app",
           "hookimpl", "retry_after", "token_answer"]


def create_app(config=None):
    """The Flask application factory (imported on first call: importing `hub` stays light)."""
    from hub.app import create_app as _create_app

    return _create_app(config)
