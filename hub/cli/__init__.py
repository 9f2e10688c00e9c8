"""The `hub` command line (also `flask --app hub ...`): the group, and one module per command group.

Commands call the domain, never the API. Tables are for people, `--json` for scripts; a mistake
prints one sentence saying what happened and what to do, and exits non-zero (`output.fails_cleanly`).
May import every domain package and `hub.services`; not `hub.api` and not `hub.app` (the console
script finds the factory through the `hub` package, so that `hub.app` can register these commands).
"""
from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from hub.cli.crypto import crypto_group
from hub.cli.instance import db_group, init_command
from hub.cli.integrations import integrations_group
from hub.cli.keys import keys_group
from hub.cli.orgs import orgs_group
from hub.cli.providers import providers_group
from hub.cli.secrets import secrets_group
from hub.cli.serve import serve_command
from hub.errors import HubError

COMMANDS = [init_command, serve_command, db_group, keys_group, orgs_group, crypto_group,
            providers_group, integrations_group, secrets_group]


def init_app(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app():
    import hub

    try:
        return hub.create_app()
    except HubError as exc:  # a malformed setting, a database URL that cannot be used
        raise click.ClickException(exc.detail) from None


def main() -> None:
    FlaskGroup(create_app=_create_app, add_default_commands=False,
               help="hub: an integration hub for third-party credentials.")(prog_name="hub")


if __name__ == "__main__":
    sys.exit(main())
