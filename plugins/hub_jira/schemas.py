"""What a Jira integration stores: the site's URL with basic-auth or PAT credentials, and config."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from hub.sdk import FullMatch


class Secret(fields.String):
    """A secret as pasted: surrounding whitespace (a trailing newline) is dropped."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def validate_single_line(value: str) -> None:
    # The message never quotes the value: it is a credential.
    if any(character in value for character in "\r\n\0"):
        raise ValidationError("The value must be a single line.")


def validate_no_userinfo(url: str) -> None:
    if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        raise ValidationError("The URL must not carry a user name or password.")


def base_url_field() -> fields.URL:
    # http is accepted here; the hub's HTTP client allows it only for hosts the operator allows.
    return fields.URL(schemes={"http", "https"}, require_tld=False, required=True,
                      validate=validate_no_userinfo, metadata={
                          "host": True,
                          "display_name": "Jira URL",
                          "description": "The Jira site: https://YOUR-SITE.atlassian.net for "
                                         "Jira Cloud, or the Data Center address including any "
                                         "path, e.g. https://jira.example.com/jira.",
                      })


class BasicAuthCredentials(Schema):
    class Meta:
        unknown = RAISE

    base_url = base_url_field()
    username = fields.String(required=True, validate=[
        validate.Length(min=1, max=255),
        # Basic auth cannot carry a ':' in the user name.
        FullMatch(r"^[^:\r\n]+$", error="A user name holds no ':' and no line breaks."),
    ], metadata={
        "display_name": "Email or user name",
        "description": "The Atlassian account's email address (Jira Cloud), or the user name "
                       "(Data Center).",
    })
    api_token = Secret(required=True, validate=[validate.Length(min=1), validate_single_line],
                       metadata={
                           "secret": True,
                           "display_name": "API token",
                           "description": "An API token from id.atlassian.com > Security > API "
                                          "tokens (Jira Cloud), or the password (Data Center).",
                           "ui_hint": "password",
                       })


class PatCredentials(Schema):
    class Meta:
        unknown = RAISE

    base_url = base_url_field()
    token = Secret(required=True, validate=[validate.Length(min=1), validate_single_line],
                   metadata={
                       "secret": True,
                       "display_name": "Personal access token",
                       "description": "A Jira Data Center / Server personal access token, from "
                                      "your profile > Personal Access Tokens.",
                       "ui_hint": "password",
                   })


class JiraConfig(Schema):
    class Meta:
        unknown = RAISE

    project_key = fields.String(validate=FullMatch(
        r"^[A-Za-z][A-Za-z0-9_]{0,254}$", error="Give a Jira project key, e.g. PROJ."), metadata={
            "display_name": "Project key",
            "description": "The project this integration works in, e.g. PROJ (the credential "
                           "check does not need it).",
        })
