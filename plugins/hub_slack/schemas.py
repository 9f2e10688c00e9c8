"""What a Slack integration stores: a token or an incoming-webhook URL, and its config."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate

DEFAULT_API_BASE_URL = "https://slack.com/api"
TOKEN_PREFIXES = ("xoxb-", "xoxp-", "xapp-")
# Apps with token rotation get access tokens that carry "xoxe." before the usual prefix.
ROTATING_TOKEN_MARK = "xoxe."


class Token(fields.String):
    """A token as pasted: surrounding whitespace (a trailing newline) is dropped."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def validate_token(token: str) -> None:
    # The messages never quote the value: it is a credential.
    bare = token.removeprefix(ROTATING_TOKEN_MARK)
    if not bare.startswith(TOKEN_PREFIXES):
        raise ValidationError("A Slack token starts with xoxb- (bot), xoxp- (user) or xapp- "
                              "(app-level).")
    if any(character.isspace() for character in token):
        raise ValidationError("A Slack token holds no spaces or line breaks.")


def validate_no_userinfo(url: str) -> None:
    if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        raise ValidationError("The URL must not carry a user name or password.")


def http_url(**kwargs) -> fields.URL:
    # http is accepted here; the hub's HTTP client allows it only for hosts the operator allows.
    return fields.URL(schemes={"http", "https"}, require_tld=False, validate=validate_no_userinfo,
                      **kwargs)


class TokenCredentials(Schema):
    class Meta:
        unknown = RAISE

    token = Token(required=True, validate=validate_token, metadata={
        "secret": True,
        "display_name": "Token",
        "description": "A bot token (xoxb-), user token (xoxp-) or app-level token (xapp-), "
                       "from the app's OAuth & Permissions or Basic Information page.",
        "ui_hint": "password",
    })


class WebhookCredentials(Schema):
    class Meta:
        unknown = RAISE

    # The URL is the credential (its path holds the secret), and it chooses the server.
    webhook_url = http_url(required=True, metadata={
        "secret": True,
        "host": True,
        "display_name": "Webhook URL",
        "description": "The incoming webhook URL, https://hooks.slack.com/services/T.../B.../..., "
                       "from the app's Incoming Webhooks page.",
        "ui_hint": "password",
    })


class SlackConfig(Schema):
    class Meta:
        unknown = RAISE

    api_base_url = http_url(load_default=DEFAULT_API_BASE_URL, metadata={
        "host": True,
        "display_name": "API base URL",
        "description": f"Where the Slack Web API answers (default {DEFAULT_API_BASE_URL}); "
                       "change it only for a proxy or a test server.",
    })
    default_channel = fields.String(validate=validate.Length(min=1, max=80), metadata={
        "display_name": "Default channel",
        "description": "Where messages go when none is named, e.g. #alerts or a channel id "
                       "such as C0123456789.",
    })
