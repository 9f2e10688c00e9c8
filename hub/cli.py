"""The `hub` command line (also `flask --app hub ...`). Tables for people, `--json` for scripts;
a failure prints what happened and what to do, and exits non-zero."""
from __future__ import annotations

import functools
import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from hub import bootstrap, keyring_access, migrate, tenancy
from hub.api.fields import to_iso
from hub.errors import HubError
from hub.models import ApiKey, Org


def _create_app():
    from hub.app import create_app
    from hub.config import SettingsError

    try:
        return create_app()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _db():
    return current_app.extensions["hub.db"]


def current_keyring():
    return current_app.extensions["hub.keyring"].get()


def fails_cleanly(func):
    """Domain and setup errors become a one-paragraph message and exit code 1, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with _db().connection_context():
                return func(*args, **kwargs)
        except (HubError, keyring_access.KeyringUnavailable) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def print_table(rows: list[dict], columns: list[str]) -> None:
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


def print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def _key_row(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "api_key": key.public_id, "role": key.role,
            "permissions": key.permissions, "projects": tenancy.project_handles(key.projects),
            "created_at": to_iso(key.created_at), "expires_at": to_iso(key.expires_at),
            "revoked_at": to_iso(key.revoked_at)}


def _report_setup(setup: bootstrap.OrgSetup, as_json: bool) -> None:
    if as_json:
        print_json({"org": setup.org.name, "project": setup.project.handle if setup.project else None,
                    "api_key": setup.key.public_id if setup.key else None, "secret": setup.secret})
        return
    click.echo(f"org:      {setup.org.name}")
    if setup.project:
        click.echo(f"project:  {setup.project.handle}")
    if setup.secret:
        click.echo(f"api_key:  {setup.key.public_id}")
        click.echo(f"secret:   {setup.secret}")
        click.echo("Store the secret now: it is shown this once and kept only as a hash.", err=True)
    else:
        owner = f" (owner key {setup.key.public_id})" if setup.key else ""
        click.echo(f"This org already has API keys{owner}; their secrets were shown when they were "
                   f"made. Make another with: hub keys create --org {setup.org.name} --name NAME "
                   "--role owner", err=True)


# -- commands ------------------------------------------------------------------------------------

@click.command("init")
@click.option("--org", "org_name", default="default", show_default=True)
@click.option("--project", "project_handle", default="default", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object {org, project, api_key, secret}.")
@with_appcontext
@fails_cleanly
def init_command(org_name, project_handle, as_json):
    """Set up the database, the root key and keyring, an org, a project and an owner key."""
    setup = bootstrap.initialize(current_app.config, _db(), org_name, project_handle)
    _report_setup(setup, as_json)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host, port, threads):
    """Serve the API with waitress, a production WSGI server."""
    import waitress

    with _db().connection_context():
        pending = migrate.pending(_db())
        if pending:
            raise click.ClickException(f"The database schema is behind ({', '.join(pending)} not "
                                       "applied). Run 'hub db upgrade' first.")
        try:
            current_keyring()  # fail now, with the reason, rather than on the first request
        except keyring_access.KeyringUnavailable as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"hub serving on http://{host}:{port} (API docs at /docs)", err=True)
    waitress.serve(current_app._get_current_object(), host=host, port=port, threads=threads,
                   ident="hub")


@click.group("db", cls=AppGroup)
def db_group():
    """The database schema."""


@db_group.command("upgrade")
@fails_cleanly
def db_upgrade_command():
    """Apply pending schema migrations (safe to run twice)."""
    applied = migrate.upgrade(_db())
    click.echo(f"applied: {', '.join(applied)}" if applied else "schema is up to date")


@click.group("keys", cls=AppGroup)
def keys_group():
    """API keys."""


def _org(name: str) -> Org:
    org = Org.get_or_none(Org.name == name)
    if org is None:
        raise click.ClickException(f"No org named '{name}'. 'hub init' makes the first one.")
    return org


@keys_group.command("create")
@click.option("--org", "org_name", default="default", show_default=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["owner", "member", "app"]), default="member", show_default=True)
@click.option("--project", "projects", multiple=True, help="Limit the key to this project (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def keys_create_command(org_name, name, role, projects, as_json):
    """Make an API key; its secret is printed once."""
    org = _org(org_name)
    key, secret = tenancy.create_api_key(current_keyring(), tenancy.operator(org), name=name, role=role,
                                         projects=list(projects) or None)
    row = _key_row(key) | {"secret": secret}
    if as_json:
        print_json(row)
    else:
        print_table([row], ["id", "name", "api_key", "role", "secret"])
        click.echo("Store the secret now: it is shown this once and kept only as a hash.", err=True)


@keys_group.command("list")
@click.option("--org", "org_name", default="default", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def keys_list_command(org_name, as_json):
    """The org's API keys (never their secrets)."""
    org = _org(org_name)
    rows = [_key_row(k) for k in ApiKey.select().where(ApiKey.org == org.id).order_by(ApiKey.id)]
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            row["status"] = "revoked" if row["revoked_at"] else "active"
        print_table(rows, ["id", "name", "api_key", "role", "status", "expires_at"])


@keys_group.command("revoke")
@click.argument("key_id")
@fails_cleanly
def keys_revoke_command(key_id):
    """Revoke a key by id or api_key; every later call with it answers 401."""
    key = ApiKey.get_or_none((ApiKey.id == key_id) | (ApiKey.public_id == key_id))
    if key is None:
        raise click.ClickException(f"No API key '{key_id}'. 'hub keys list' shows them.")
    key = tenancy.revoke_api_key(tenancy.operator(key.org), key.id)
    click.echo(f"revoked {key.public_id} ({key.name}) at {to_iso(key.revoked_at)}")


@click.group("orgs", cls=AppGroup)
def orgs_group():
    """Orgs."""


@orgs_group.command("create")
@click.argument("org_name")
@click.option("--project", "project_handle", default=None)
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def orgs_create_command(org_name, project_handle, as_json):
    """Another org, with an owner key printed once."""
    setup = bootstrap.ensure_org(current_keyring(), org_name, project_handle, must_be_new=True)
    _report_setup(setup, as_json)


@click.group("crypto", cls=AppGroup)
def crypto_group():
    """The keyring: data keys and their rotation."""


@crypto_group.command("status")
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def crypto_status_command(as_json):
    """Data keys, which is primary, and how many ciphertexts each still protects."""
    rows = current_keyring().status()
    if as_json:
        print_json([r | {"created_at": to_iso(r["created_at"]),
                         "state_changed_at": to_iso(r["state_changed_at"])} for r in rows])
    else:
        print_table([r | {"created_at": to_iso(r["created_at"])} for r in rows],
                    ["id", "state", "ciphertexts", "created_at"])


@crypto_group.command("rotate")
@fails_cleanly
def crypto_rotate_command():
    """Make a new primary data key; every server process seals with it at once."""
    new_id = current_keyring().rotate()
    click.echo(f"new primary data key: {new_id}. Older keys stay active to open what they sealed; "
               "'hub crypto status' shows how many ciphertexts each still protects.")


@click.group("providers", cls=AppGroup)
def providers_group():
    """Provider plugins."""


@providers_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def providers_list_command(as_json):
    """The providers that loaded, and the plugins that failed with the reason."""
    registry = current_app.extensions["hub.providers"]
    loaded = [{"name": p.name, "display_name": p.display_name, "version": p.version,
               "package": p.package, "auth_methods": ", ".join(m.id for m in p.auth_methods),
               "verify": "yes" if p.verify else "no"} for p in registry.providers.values()]
    failed = [{"plugin": f.plugin, "error": f.error} for f in registry.failures]
    if as_json:
        print_json({"providers": loaded, "failures": failed})
    else:
        print_table(loaded, ["name", "display_name", "version", "package", "auth_methods", "verify"])
        if failed:
            click.echo("\nplugins that failed to load:")
            print_table(failed, ["plugin", "error"])
    if failed:
        sys.exit(1)


@click.group("integrations", cls=AppGroup)
def integrations_group():
    """Integrations."""


@integrations_group.command("verify")
@click.option("--project", "project_handles", multiple=True, help="A project handle (repeatable).")
@click.option("--all", "all_projects", is_flag=True, help="Every integration of every project.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--restart", is_flag=True, help="Begin again instead of resuming an interrupted run.")
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def integrations_verify_command(project_handles, all_projects, concurrency, restart, as_json):
    """Check stored credentials against their providers; exit 1 if any check failed."""
    from hub import bulk_verify
    from hub.integrations import Services
    from hub.models import Project
    from hub.verification import http_client_from_settings

    if bool(project_handles) == all_projects:
        raise click.UsageError("Name the projects with --project P (repeatable), or pass --all.")
    project_ids = None
    if project_handles:
        found = {p.handle: p.id for p in Project.select().where(Project.handle.in_(project_handles))}
        missing = sorted(set(project_handles) - set(found))
        if missing:
            raise click.ClickException(f"No project {', '.join(missing)}. 'hub init' made 'default'.")
        project_ids = sorted(found.values())
    settings = current_app.config  # the workers run outside the app context
    services = Services(keyring=current_keyring(), providers=current_app.extensions["hub.providers"],
                        http_client=lambda: http_client_from_settings(settings))
    state = bulk_verify.RunState(current_app.config["INSTANCE_PATH"],
                                 "all" if all_projects else ",".join(sorted(project_handles)))
    started, resumed = state.begin(restart)
    if resumed:
        click.echo(f"Resuming the run started at {to_iso(started)} (--restart begins again).", err=True)

    def progress(done, total, outcome):
        row = outcome.integration
        verdict = "ok" if outcome.ok else (outcome.result["error"]["code"] if outcome.result else "not run")
        click.echo(f"[{done}/{total}] {outcome.project_handle}/{row.name} ({row.provider}): {verdict}", err=True)

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


COMMANDS = [init_command, serve_command, db_group, keys_group, orgs_group, crypto_group, providers_group,
            integrations_group]


def init_app(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
    from hub.cli_secrets import secrets_group  # here: that module builds on this one's helpers

    app.cli.add_command(secrets_group)


def main() -> None:
    FlaskGroup(create_app=_create_app, add_default_commands=False,
               help="hub: an integration hub for third-party credentials.")(prog_name="hub")


if __name__ == "__main__":
    sys.exit(main())
