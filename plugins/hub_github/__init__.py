"""GitHub: a personal access or OAuth token checked with GET /user, a GitHub App, or a GitHub
App user access token connected by OAuth."""
from hub import hookimpl
from hub.sdk import AuthMethod, OAuthCredentials, Provider
from hub_github.check import verify
from hub_github.oauth import OAUTH
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
        AuthMethod(id="oauth", display_name="Connect with GitHub (GitHub App user token)",
                   credentials_schema=OAuthCredentials,
                   description="A GitHub App user access token obtained by a person's consent "
                               "(8 hours, refreshed by the hub), checked with GET /user.",
                   oauth=OAUTH),
    ),
    config_schema=GitHubConfig,
    verify=verify,
)


@hookimpl
def hub_register_providers(register):
    register(PROVIDER)
