"""`hub integrations`: checking stored credentials in bulk, resumably; refreshing the OAuth
tokens that are due."""
from __future__ import annotations

import re
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from hub import tenancy
from hub.cli.output import (
    current_keyring,
    fails_cleanly,
    operator,
    print_json,
    print_table,
    progress_lines,
)
from hub.oauth import refresh as oauth_refresh
from hub.services import build_services
from hub.storage.models import Org
from hub.timestamps import to_iso
from hub.verification import bulk as bulk_verify


@click.group("integrations", cls=AppGroup)
def integrations_group():
    """Integrations."""


@integrations_group.command("verify")
@click.option("--project", "project_handles", multiple=True,
              help="A project handle or id (repeatable).")
@click.option("--all", "all_projects", is_flag=True, help="Every integration of every project.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--restart", is_flag=True, help="Begin again instead of resuming an interrupted run.")
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def integrations_verify_command(project_handles, all_projects, concurrency, restart, as_json):
    """Check stored credentials against their providers; exit 1 if any check failed."""
    if bool(project_handles) == all_projects:
        raise click.UsageError("Name the projects with --project P (repeatable), or pass --all.")
    project_ids = None
    if project_handles:
        found = {ref: project.id for ref in project_handles
                 if (project := tenancy.project_by_ref(ref)) is not None}
        missing = sorted(set(project_handles) - set(found))
        if missing:
            raise click.ClickException(f"No project {', '.join(missing)} in this hub. 'hub projects "
                                       "list --org ORG' shows an org's.")
        project_ids = sorted(found.values())
    services = build_services(current_keyring(), current_app.extensions["hub.providers"],
                              current_app.config, prepare_stored=oauth_refresh.before_check)
    state = bulk_verify.RunState(current_app.config["INSTANCE_PATH"],
                                 "all" if all_projects else ",".join(sorted(project_handles)))
    started, resumed = state.begin(restart)
    if resumed:
        click.echo(f"Resuming the run started at {to_iso(started)} (--restart begins again).", err=True)

    with progress_lines("verifying") as report:
        def progress(done, total, outcome):
            row = outcome.integration
            verdict = "ok" if outcome.ok else (outcome.result["error"]["code"] if outcome.result else "not run")
            report(done, total, f"{outcome.project_handle}/{row.name} ({row.provider}): {verdict}")

        outcomes, skipped = bulk_verify.run(services, bulk_verify.select(project_ids), started=started,
                                            resumed=resumed, concurrency=concurrency, progress=progress)
    state.finish()
    rows = [{"project": o.project_handle, "name": o.integration.name, "provider": o.integration.provider,
             "id": o.integration.id, "ok": o.ok,
             "code": (o.result["error"] or {}).get("code") if o.result else "not_run",
             "message": (o.result["error"] or {}).get("message") if o.result else o.problem}
            for o in outcomes]
    failed = sum(1 for r in rows if not r["ok"])
    if as_json:
        print_json({"results": rows, "checked": len(rows), "failed": failed, "skipped": skipped})
    else:
        print_table(rows, ["project", "name", "provider", "ok", "code", "message"])
        click.echo(f"{len(rows)} checked, {failed} failed, {skipped} skipped (checked earlier in this run)")
    if failed:
        sys.exit(1)


_DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Duration(click.ParamType):
    """`90`, `90s`, `10m`, `2h`, `1d` as seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        match = _DURATION.match(str(value).strip().lower())
        if match is None:
            self.fail(f"{value!r} is not a duration: give seconds, or a number with s, m, h or d "
                      "(e.g. 10m).", param, ctx)
        return float(int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


@integrations_group.command("refresh")
@click.option("--project", "project_handles", multiple=True,
              help="A project handle or id (repeatable); default: every project.")
@click.option("--all", "all_projects", is_flag=True, help="Every project (the default).")
@click.option("--within", default="10m", show_default=True, type=Duration(),
              help="Refresh tokens that expire within this long (e.g. 90s, 10m, 2h).")
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def integrations_refresh_command(project_handles, all_projects, within, as_json):
    """Refresh the OAuth tokens that are due (for cron); exit 1 if any refresh failed."""
    if project_handles and all_projects:
        raise click.UsageError("Pass --project P (repeatable) or --all, not both.")
    project_ids = _project_ids(project_handles) if project_handles else None
    services = build_services(current_keyring(), current_app.extensions["hub.providers"],
                              current_app.config, prepare_stored=oauth_refresh.before_check)
    orgs = {}

    def principal_of_org(org_id):
        if org_id not in orgs:
            orgs[org_id] = operator(Org.get_by_id(org_id))
        return orgs[org_id]

    with progress_lines("refreshing") as report:
        def progress(done, total, outcome):
            row = outcome.integration
            verdict = "refreshed" if outcome.refreshed else ("failed" if outcome.error else
                                                             "fresh already")
            report(done, total, f"{outcome.project_handle}/{row.name} ({row.provider}): {verdict}")

        outcomes = oauth_refresh.refresh_due(services, principal_of_org, project_ids, within,
                                             progress=progress)
    rows = [{"project": o.project_handle, "name": o.integration.name,
             "provider": o.integration.provider, "id": o.integration.id,
             "ok": o.error is None, "refreshed": o.refreshed, "message": o.error}
            for o in outcomes]
    failed = sum(1 for r in rows if not r["ok"])
    if as_json:
        print_json({"results": rows, "due": len(rows), "failed": failed})
    else:
        print_table(rows, ["project", "name", "provider", "ok", "refreshed", "message"])
        click.echo(f"{len(rows)} due, {sum(r['refreshed'] for r in rows)} refreshed, "
                   f"{failed} failed")
    if failed:
        sys.exit(1)


def _project_ids(project_handles) -> list[str]:
    found = {ref: project.id for ref in project_handles
             if (project := tenancy.project_by_ref(ref)) is not None}
    missing = sorted(set(project_handles) - set(found))
    if missing:
        raise click.ClickException(f"No project {', '.join(missing)} in this hub. 'hub projects "
                                   "list --org ORG' shows an org's.")
    return sorted(found.values())
