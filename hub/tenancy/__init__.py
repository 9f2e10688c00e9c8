"""Tenancy: orgs, projects, API keys, permissions and the API-key token format.

Owns who may do what, and where: a `Principal` is the caller (an API key, or the local operator
through the CLI), checked with `require` and `reaches`. May import `hub.storage`, `hub.errors` and
`hub.audit` (to put its changes on record), nothing else (no Flask): the API and the CLI both call it.
"""
from hub.tenancy.api_keys import (
                                  api_key_query,
                                  authenticate,
                                  create_api_key,
                                  find_api_key,
                                  principal_of,
                                  revoke_api_key,
)
from hub.tenancy.principal import Principal, operator
from hub.tenancy.projects import (
                                  HANDLE_RE,
                                  UUID_RE,
                                  create_org,
                                  create_project,
                                  delete_project,
                                  find_project,
                                  list_projects,
                                  project_by_ref,
                                  project_handles,
)

__all__ = ["HANDLE_RE", "UUID_RE", "Principal", "api_key_query", "authenticate", "create_api_key",
           "create_org", "create_project", "delete_project", "find_api_key", "find_project",
           "list_projects", "operator", "principal_of", "project_by_ref", "project_handles",
           "revoke_api_key"]
