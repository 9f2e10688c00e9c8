"""Jira: Jira Cloud with an email and API token or connected by OAuth, or Data Center / Server
with a personal token."""
from hub import hookimpl
from hub.sdk import AuthMethod, Provider
from hub_jira.check import BASIC_AUTH_CHECK, PAT_CHECK
from hub_jira.oauth import OAUTH, OAUTH_CHECK, JiraOAuthCredentials
from hub_jira.schemas import BasicAuthCredentials, JiraConfig, PatCredentials

PROVIDER = Provider(
    name="jira",
    display_name="Jira",
    description="Jira Cloud and Jira Data Center / Server: the REST API as a user.",
    version="1.0.0",
    auth_methods=(
        AuthMethod(id="basic_auth", display_name="Email and API token",
                   credentials_schema=BasicAuthCredentials,
                   description="Jira Cloud: the account's email and an API token (basic auth), "
                               "checked with GET /rest/api/3/myself.",
                   default=True, check=BASIC_AUTH_CHECK),
        AuthMethod(id="pat", display_name="Personal access token",
                   credentials_schema=PatCredentials,
                   description="Jira Data Center / Server: a personal access token (Bearer), "
                               "checked with GET /rest/api/2/myself.",
                   check=PAT_CHECK),
        AuthMethod(id="oauth", display_name="Connect with Atlassian (OAuth 2.0)",
                   credentials_schema=JiraOAuthCredentials,
                   description="Jira Cloud by a person's consent (Atlassian OAuth 2.0 3LO: "
                               "one-hour access tokens, rotating refresh tokens, refreshed by the "
                               "hub), checked with GET /rest/api/3/myself through the site's "
                               "cloud id.",
                   check=OAUTH_CHECK, oauth=OAUTH),
    ),
    config_schema=JiraConfig,
    # verify is made from the checks of the auth methods
)


@hookimpl
def hub_register_providers(register):
    register(PROVIDER)
