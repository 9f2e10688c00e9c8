"""What a GitHub integration stores: a token or a GitHub App's key, and its config."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from hub.sdk import FullMatch
from hub_github.app_jwt import InvalidPrivateKey, load_private_key

DEFAULT_API_BASE_URL = "https://api.github.com"
# Classic PAT, fine-grained PAT, OAuth, user-to-server, installation. Lengths are not checked:
# GitHub changes token formats (installation tokens did in 2026).
TOKEN_PREFIXES = ("ghp_", "github_pat_", "gho_", "ghu_", "ghs_")
MAX_TOKEN_LENGTH = 255


class Token(fields.String):
    """A token as pasted: surrounding whitespace (a trailing newline) is dropped."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class AppId(fields.String):
    """The App ID (digits, also accepted as a JSON number) or the Client ID (Iv...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs).strip()


def validate_token(token: str) -> None:
    # The messages never quote the value: it is a credential.
    if not token.startswith(TOKEN_PREFIXES):
        raise ValidationError("A GitHub token starts with ghp_ (classic), github_pat_ "
                              "(fine-grained), gho_, ghu_ or ghs_.")
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValidationError(f"A GitHub token has at most {MAX_TOKEN_LENGTH} characters.")
    if any(character.isspace() for character in token):
        raise ValidationError("A GitHub token holds no spaces or line breaks.")


def validate_private_key(text: str) -> None:
    try:
        load_private_key(text)
    except InvalidPrivateKey as exc:
        raise ValidationError(str(exc)) from None


def validate_no_userinfo(url: str) -> None:
    if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        raise ValidationError("The URL must not carry a user name or password.")


class PatCredentials(Schema):
    class Meta:
        unknown = RAISE

    token = Token(required=True, validate=validate_token, metadata={
        "secret": True,
        "display_name": "Token",
        "description": "A personal access token (classic ghp_ or fine-grained github_pat_), "
                       "or an OAuth token, from GitHub > Settings > Developer settings.",
        "ui_hint": "password",
    })


class AppCredentials(Schema):
    class Meta:
        unknown = RAISE

    app_id = AppId(required=True, validate=FullMatch(
        r"^[A-Za-z0-9._-]{1,100}$", error="Give the App ID (a number) or the Client ID (Iv...)."),
        metadata={
            "display_name": "App ID",
            "description": "The App ID (a number) or Client ID (Iv...) from the app's settings "
                           "page.",
        })
    private_key = fields.String(required=True, validate=validate_private_key, metadata={
        "secret": True,
        "display_name": "Private key",
        "description": "The app's private key, the whole PEM file that GitHub generated "
                       "(-----BEGIN RSA PRIVATE KEY----- ...).",
        # A PEM spans lines, which a password input would flatten.
        "ui_hint": "textarea",
    })
    installation_id = fields.Integer(strict=False, validate=validate.Range(min=1), metadata={
        "display_name": "Installation ID",
        "description": "The installation to act as (the number at the end of the installation's "
                       "settings URL). With it, the check also obtains an installation token.",
    })


class GitHubConfig(Schema):
    class Meta:
        unknown = RAISE

    # http is accepted here; the hub's HTTP client allows it only for hosts the operator allows.
    api_base_url = fields.URL(
        schemes={"http", "https"}, require_tld=False, validate=validate_no_userinfo,
        load_default=DEFAULT_API_BASE_URL, metadata={
            "host": True,
            "display_name": "API base URL",
            "description": f"Where the GitHub REST API answers: {DEFAULT_API_BASE_URL}, or "
                           "https://HOST/api/v3 for GitHub Enterprise Server.",
        })
    org = fields.String(validate=FullMatch(
        r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", error="Give an organization login, e.g. acme."),
        metadata={
            "display_name": "Organization",
            "description": "The organization this integration works in, for the apps that use "
                           "it (the credential check does not need it).",
        })
