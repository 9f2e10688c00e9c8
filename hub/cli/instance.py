"""`hub init` and `hub db upgrade`: setting up an instance and its schema."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from hub import bootstrap
from hub.cli.output import database, fails_cleanly, print_json
from hub.crypto.access import open_keyring
from hub.storage import migrate


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


@click.command("init")
@click.option("--org", "org_name", default="default", show_default=True)
@click.option("--project", "project_handle", default="default", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object {org, project, api_key, secret}.")
@with_appcontext
@fails_cleanly(creates=True)
def init_command(org_name, project_handle, as_json):
    """Set up the database, the root key and keyring, an org, a project and an owner key."""
    setup = bootstrap.initialize(current_app.config, database(), org_name, project_handle)
    _report_setup(setup, as_json)


@click.group("db", cls=AppGroup)
def db_group():
    """The database schema."""


@db_group.command("upgrade")
@click.option("--json", "as_json", is_flag=True, help="Print {applied: [migration names]}.")
@fails_cleanly(creates=True)
def db_upgrade_command(as_json):
    """Apply pending schema migrations (safe to run twice; a new SQLite database is made)."""
    # The keyring, opened only if a migration must re-seal or MAC existing rows (0007).
    applied = migrate.upgrade(database(), keyring=lambda: open_keyring(current_app.config))
    if as_json:
        print_json({"applied": applied})
    else:
        click.echo(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
