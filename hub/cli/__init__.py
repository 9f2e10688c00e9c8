"""The `hub` command line (also `flask --app hub ...`): the group, and one module per command group.

Commands call the domain, never the API. Tables are for people, `--json` for scripts; a mistake
prints one sentence saying what happened and what to do, and exits non-zero (`output.fails_cleanly`).
May import every domain package and `hub.services`; not `hub.api` and not `hub.app` (the console
script finds the factory through the `hub` package, so that `hub.app` can register these commands).
"""
from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup, ScriptInfo

from hub.cli.audit import audit_group
from hub.cli.crypto import crypto_group
from hub.cli.instance import db_group, init_command
from hub.cli.integrations import integrations_group
from hub.cli.keys import keys_group
from hub.cli.orgs import orgs_group
from hub.cli.plugin import plugin_group
from hub.cli.projects import projects_group
from hub.cli.providers import providers_group
from hub.cli.secrets import secrets_group
from hub.cli.serve import serve_command
from hub.errors import HubError

COMMANDS = [init_command, serve_command, db_group, keys_group, orgs_group, projects_group,
            crypto_group, providers_group, integrations_group, secrets_group, audit_group,
            plugin_group]


def init_app(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app():
    import hub

    try:
        return hub.create_app()
    except HubError as exc:  # a malformed setting, a database URL that cannot be used
        raise click.ClickException(exc.detail) from None


def _print_version(ctx: click.Context, _param, value) -> None:
    if value and not ctx.resilient_parsing:
        import hub

        click.echo(f"hub {hub.__version__}")
        ctx.exit()


class HubGroup(FlaskGroup):
    """Flask's group, with the hub's commands and version and without Flask's own options.

    `--app`, `--env-file` and `--debug` choose or configure *some* Flask app; `hub` always runs
    this hub (`hub.create_app`), configured by HUB_* settings. The commands are the group's own,
    so `hub --help` lists them without building an app (which could fail on a bad setting).
    """

    _FLASK_OPTIONS = frozenset({"app", "env_file", "debug"})

    def __init__(self):
        super().__init__(create_app=_create_app, add_default_commands=False, add_version_option=False,
                         load_dotenv=False, context_settings={"auto_envvar_prefix": None},
                         help="hub: an integration hub for third-party credentials.")
        self.params = [p for p in self.params if p.name not in self._FLASK_OPTIONS]
        self.params.append(click.Option(["--version"], is_flag=True, expose_value=False, is_eager=True,
                                        callback=_print_version, help="Print the hub's version."))
        for command in COMMANDS:
            self.add_command(command)

    def parse_args(self, ctx, args):
        return click.Group.parse_args(self, ctx, args)  # not Flask's: it reads --app/--env-file early

    def get_command(self, ctx, name):
        return self.commands.get(name)

    def list_commands(self, ctx):
        return sorted(self.commands)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        finally:
            _close_database(ctx)


def _close_database(ctx: click.Context) -> None:
    """A command is done with the database: close its connections (a pooled PostgreSQL keeps them
    open for the next request otherwise, which a process about to exit, or a test running many
    commands in one process, never makes)."""
    info = ctx.find_object(ScriptInfo)
    app = getattr(info, "_loaded_app", None) if info is not None else None
    db = app.extensions.get("hub.db") if app is not None else None
    if db is None:
        return
    if hasattr(db, "close_all"):
        db.close_all()
    elif not db.is_closed():
        db.close()


def main() -> None:
    HubGroup()(prog_name="hub")


if __name__ == "__main__":
    sys.exit(main())
