"""The JSON Web Token that authenticates a GitHub App (RS256, signed with the app's key)."""
from __future__ import annotations

import time

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# GitHub refuses an `exp` more than 10 minutes ahead; `iat` is back-dated for clock drift.
ISSUED_BEFORE_NOW = 60
EXPIRES_AFTER_NOW = 9 * 60


class InvalidPrivateKey(ValueError):
    """The text is not an unencrypted PEM RSA private key (the message never quotes it)."""


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    pem = text.strip()
    if "\\n" in pem and "\n" not in pem:  # pasted from an environment variable
        pem = pem.replace("\\n", "\n")
    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeError):
        # Raised from None: the underlying exception may hold parts of the key.
        raise InvalidPrivateKey("This is not an unencrypted PEM private key; paste the whole "
                                ".pem file GitHub generated for the app.") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidPrivateKey("A GitHub App private key is an RSA key.")
    return key


def make_app_jwt(app_id: str, private_key: str, now: float | None = None) -> str:
    """A JWT for `GET /app` and installation tokens; raises InvalidPrivateKey."""
    now = int(time.time() if now is None else now)
    # The issuer is the App ID (older Enterprise Servers take only that) or the Client ID, as a
    # string either way (JWT's StringOrURI; PyJWT refuses a number).
    claims = {"iat": now - ISSUED_BEFORE_NOW, "exp": now + EXPIRES_AFTER_NOW, "iss": str(app_id)}
    return jwt.encode(claims, load_private_key(private_key), algorithm="RS256")
