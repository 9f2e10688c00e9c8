"""GitHub: a personal access or OAuth token checked with GET /user, or a GitHub App."""
from hub import hookimpl
from hub.sdk import AuthMethod, Provider
from hub_github.check import verify
from hub_github.schemas import AppCredentials, GitHubConfig, PatCredentials

PROVIDER = Provider(
    name="github",
    display_name="GitHub",
    description="GitHub and GitHub Enterprise Server: the REST API with a personal access token "
                "or as a GitHub App.",
    version="1.0.0",
    auth_methods=(
        AuthMethod(id="pat", display_name="Personal access token",
                   credentials_schema=PatCredentials,
                   description="A classic or fine-grained personal access token (or an OAuth "
                               "token), checked with GET /user.",
                   default=True),
        AuthMethod(id="app", display_name="GitHub App", credentials_schema=AppCredentials,
                   description="A GitHub App's ID and private key, checked with GET /app; with an "
                               "installation ID, also by obtaining an installation token."),
    ),
    config_schema=GitHubConfig,
    verify=verify,
)


@hookimpl
def hub_register_providers(register):
    register(PROVIDER)
