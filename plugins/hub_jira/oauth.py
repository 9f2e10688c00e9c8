"""Jira Cloud by Atlassian OAuth 2.0 (3LO): authorize with `audience=api.atlassian.com` and
`prompt=consent`, space-separated scopes (`offline_access` for a refresh token); the token endpoint
takes a JSON body and refuses with HTTP 400/403 `{"error": "invalid_grant" | ...}`; refresh tokens
rotate. A token is not tied to a site: `GET {api}/oauth/token/accessible-resources` names the
sites it reaches, and the first one's cloud id routes every call through
`{api}/ex/jira/{cloud_id}` (identity: `.../rest/api/3/myself`)."""
from __future__ import annotations

import dataclasses
import re

from marshmallow import fields

from hub.sdk import BaseUrl, Bearer, OAuth, OAuthCredentials, TokenRefusal, token_answer
from hub_jira.check import myself_check

DEFAULT_API_BASE_URL = "https://api.atlassian.com"
# A cloud id is a UUID; the provider's answer becomes part of the URL the token is sent to, so
# anything else (a '/', '..', '?', '#') is not taken as one.
CLOUD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,99}")


def find_site(token, api_base_url: str, http) -> dict | TokenRefusal:
    """The first site the token reaches: its cloud id, URL and name, and the API URL through it."""
    response = http.request("GET", f"{api_base_url.rstrip('/')}/oauth/token/accessible-resources",
                            headers={"Authorization": f"Bearer {token.access_token}",
                                     "Accept": "application/json"})
    try:
        sites = response.json() if response.status == 200 else None
    except ValueError:
        sites = None
    sites = [s for s in sites or () if isinstance(s, dict) and isinstance(s.get("id"), str)
             and CLOUD_ID.fullmatch(s["id"])] if isinstance(sites, list) else []
    if not sites:
        return TokenRefusal(f"http_{response.status}" if response.status != 200 else "no_site",
                            "Atlassian names no Jira site that this connection may reach: grant "
                            "the app access to a site and connect again.")
    site = sites[0]
    return {"cloud_id": site["id"], "site_url": str(site.get("url") or "")[:255],
            "site_name": str(site.get("name") or "")[:255],
            "api_url": f"{api_base_url.rstrip('/')}/ex/jira/{site['id']}"}


OAUTH = OAuth(
    authorize_url="https://auth.atlassian.com/authorize",
    token_url="https://auth.atlassian.com/oauth/token",
    api_base_url=DEFAULT_API_BASE_URL,
    scopes={"read:jira-user": "Read user information", "read:jira-work": "Read issues",
            "write:jira-work": "Create and edit issues",
            "offline_access": "Refresh tokens (needed for a lasting connection)"},
    default_scopes=("read:jira-user", "read:jira-work", "offline_access"),
    scope_separator=" ",
    authorize_params={"audience": "api.atlassian.com", "prompt": "consent"},
    client_auth="json",
    read_token=token_answer(name="Atlassian"),
    after_exchange=find_site,
    config_base_url=None,  # the API location is the site's, kept in the credentials (api_url)
)

# GET {api}/ex/jira/{cloud_id}/rest/api/3/myself with the access token.
OAUTH_CHECK = dataclasses.replace(myself_check(
    "/rest/api/3/myself", Bearer("access_token"),
    unauthorized="Atlassian does not accept this connection's access token: connect it again."),
    base_url=BaseUrl(credentials="api_url"))


class JiraOAuthCredentials(OAuthCredentials):
    """The OAuth credentials and the site the token reaches (found after the exchange)."""

    cloud_id = fields.String(metadata={"display_name": "Cloud id",
                                       "description": "The Jira Cloud site's cloud id."})
    site_url = fields.String(metadata={"display_name": "Site",
                                       "description": "The site, e.g. https://acme.atlassian.net."})
    api_url = fields.String(metadata={
        "host": True, "display_name": "API URL",
        "description": "Where the hub calls the site's API: "
                       "https://api.atlassian.com/ex/jira/{cloud_id}."})
