"""Slack: a bot, user or app-level token checked with auth.test, an incoming webhook, or a
connection by OAuth (token rotation on)."""
from hub import hookimpl
from hub.sdk import AuthMethod, OAuthCredentials, Provider
from hub_slack.check import TOKEN_CHECK, verify_webhook
from hub_slack.oauth import OAUTH, OAUTH_CHECK
from hub_slack.schemas import SlackConfig, TokenCredentials, WebhookCredentials

PROVIDER = Provider(
    name="slack",
    display_name="Slack",
    description="Slack workspaces: post messages and call the Web API with a token, or post "
                "through an incoming webhook.",
    version="1.0.0",
    auth_methods=(
        AuthMethod(id="token", display_name="Token", credentials_schema=TokenCredentials,
                   description="A bot (xoxb-), user (xoxp-) or app-level (xapp-) token, checked "
                               "with auth.test.",
                   default=True, check=TOKEN_CHECK),
        AuthMethod(id="webhook", display_name="Incoming webhook",
                   credentials_schema=WebhookCredentials,
                   description="An incoming webhook URL, checked with an empty post that Slack "
                               "refuses without posting anything."),
        AuthMethod(id="oauth", display_name="Connect with Slack (OAuth)",
                   credentials_schema=OAuthCredentials,
                   description="Installed by a person's consent (OAuth v2 with token rotation: "
                               "12-hour access tokens that the hub refreshes); checked with "
                               "auth.test.",
                   check=OAUTH_CHECK, oauth=OAUTH),
    ),
    config_schema=SlackConfig,
    verify=verify_webhook,  # for the webhook, which has no declared check
)


@hookimpl
def hub_register_providers(register):
    register(PROVIDER)
