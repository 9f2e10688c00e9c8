"""Jira: Jira Cloud with an email and API token, or Data Center / Server with a personal token."""
from hub import hookimpl
from hub.sdk import AuthMethod, Provider
from hub_jira.check import BASIC_AUTH_CHECK, PAT_CHECK
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
    ),
    config_schema=JiraConfig,
    # verify is made from the checks of the auth methods
)


@hookimpl
def hub_register_providers(register):
    register(PROVIDER)
