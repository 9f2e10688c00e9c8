"""Checking stored or proposed credentials of an integration, and recording what a check found."""
from __future__ import annotations

from hub.audit import log as audit
from hub.errors import NotFound
from hub.integrations import integrity
from hub.integrations.records import find_in_project, open_credentials
from hub.integrations.validation import (
    auth_method_for,
    loaded_provider,
    refuse_host_change_without_credentials,
    validate_against,
)
from hub.sdk import Provider
from hub.services import Services
from hub.storage.models import Integration, Project, database
from hub.tenancy import Principal, find_project
from hub.tenancy import permissions as perms
from hub.timestamps import parse_iso
from hub.verification.run import checkable_method, run_check

EXPIRING_ERRORS = ("expired", "revoked")  # verification codes that make an integration read expired


def apply_result(row: Integration, result: dict) -> None:
    """Record on the integration what a check of its stored credentials found (not saved here).

    - `last_verification` becomes the result, whatever it says.
    - `expired_reason`: a success clears it; an `expired` or `revoked` failure sets it; any other
      failure (rate limit, timeout, a provider error) tells nothing about the credentials and
      leaves it as it was.
    - `expires_at`: a result's `expires_at` is, by the SDK's contract, the expiry of the stored
      credential itself (a token that GitHub says expires on a date), never that of something the
      check obtained with it (the one-hour installation token a GitHub App check mints from the
      app's key, which does not expire): providers report such expiries in `identity`. So a
      reported expiry becomes the integration's; a result without one leaves the integration's
      `expires_at` as it was (the provider did not say, or the user set it).
    """
    row.last_verification = result
    error = result.get("error")
    if result["ok"]:
        row.expired_reason = None
    elif error and error["code"] in EXPIRING_ERRORS:
        row.expired_reason = error["code"]
    credential_expires_at = result.get("expires_at")
    if credential_expires_at:
        row.expires_at = parse_iso(credential_expires_at)


def run_for(services: Services, provider: Provider, auth_type: str, credentials: dict, config: dict,
            *, org_id: str) -> dict:
    """The check's result, for `org_id`: in the services' check pool (the API's: bounded per org,
    apart from the request threads) if they have one, else on this thread.

    :raises hub.errors.RateLimited: the pool could not start the check within a second.
    """
    auth_type = checkable_method(provider, auth_type)  # refused before it takes a place
    http = services.http_client()
    if services.check_pool is None:
        return run_check(provider, auth_type, credentials, config, http)
    return services.check_pool.run(
        org_id, lambda: run_check(provider, auth_type, credentials, config, http))


def verify_stored(services: Services, principal: Principal, project_ref: str, integration_id: str,
                  proposal: dict | None = None) -> dict:
    """Check the stored credentials and record the result; with a proposal (`config` and/or
    `credentials` over the stored ones), check that instead and store nothing."""
    principal.require(perms.INTEGRATIONS_VERIFY)
    project = find_project(principal, project_ref)
    return verify_row(services, principal, find_in_project(project, integration_id), project, proposal)


def verify_row(services: Services, principal: Principal, row: Integration, project: Project | None,
               proposal: dict | None) -> dict:
    if not proposal:
        return check_and_record(services, row, principal, project)
    integrity.require(services.keyring, row)  # proposed credentials go to the stored config too
    provider = loaded_provider(services.providers, row)
    method = auth_method_for(provider, row.auth_type)
    config = row.config
    if "credentials" in proposal:
        credentials = validate_against(method.credentials_schema, proposal["credentials"], "credentials")
    else:
        credentials = open_credentials(services.keyring, row)
    if "config" in proposal:
        config = validate_against(provider.config_schema, proposal["config"] or {}, "config")
        if "credentials" not in proposal:
            refuse_host_change_without_credentials(provider, row.config, config)
    return run_for(services, provider, method.id, credentials, config, org_id=row.org_id)


def check_and_record(services: Services, row: Integration, principal: Principal,
                     project: Project | None = None) -> dict:
    """Check an integration's stored credentials, store the result on it, and audit the check
    (`integration.verify`, by `principal`)."""
    provider = loaded_provider(services.providers, row)
    if services.prepare_stored is not None:  # an OAuth token is refreshed first if it is due
        row = services.prepare_stored(services, principal, row, project)
    credentials = open_credentials(services.keyring, row)
    result = run_for(services, provider, row.auth_type, credentials, row.config, org_id=row.org_id)
    with database.atomic():
        # Only if the row is as it was when checked: a PUT that came between (new credentials, a new
        # expires_at) is not overwritten by a result about what it replaced. One conditional UPDATE,
        # so the database settles a PUT racing with it.
        apply_result(row, result)
        stored = bool(Integration.update(
            last_verification=row.last_verification, expired_reason=row.expired_reason,
            expires_at=row.expires_at,
        ).where((Integration.id == row.id) & (Integration.updated_at == row.updated_at)).execute())
        if project is None and row.project_id:
            project = Project.get_or_none(Project.id == row.project_id)
        audit.record(principal, "integration.verify", target_type="integration", target_id=row.id,
                     project=project, outcome="success" if result["ok"] else "failed",
                     details={"ok": result["ok"], "code": (result["error"] or {}).get("code"),
                              "stored": stored})
    return result


def verify_unsaved(services: Services, principal: Principal, provider_name: str, data: dict) -> dict:
    """The dry run: check credentials that are not stored. Nothing is stored."""
    principal.require(perms.INTEGRATIONS_VERIFY)
    provider = services.providers.get(provider_name)
    if provider is None:
        raise NotFound(f"No provider '{provider_name}'. Known providers: "
                       f"{', '.join(services.providers.names()) or 'none are loaded'}.")
    method = auth_method_for(provider, data.get("auth_type"))
    credentials = validate_against(method.credentials_schema, data["credentials"], "credentials")
    config = validate_against(provider.config_schema, data.get("config") or {}, "config")
    return run_for(services, provider, method.id, credentials, config, org_id=principal.org_id)
