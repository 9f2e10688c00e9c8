"""`hub providers`: which provider plugins loaded, and why others did not."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from hub.cli.output import fails_cleanly, print_json, print_table


@click.group("providers", cls=AppGroup)
def providers_group():
    """Provider plugins."""


@providers_group.command("list")
@click.option("--json", "as_json", is_flag=True,
              help="Print {providers: [...], failures: [...]} with lists and booleans.")
@fails_cleanly(uses_database=False)
def providers_list_command(as_json):
    """The providers that loaded, and the plugins that failed with the reason."""
    registry = current_app.extensions["hub.providers"]
    loaded = [{"name": p.name, "display_name": p.display_name, "version": p.version,
               "package": p.package, "auth_methods": [m.id for m in p.auth_methods],
               "verify_supported": p.verify is not None} for p in registry.providers.values()]
    failed = [{"plugin": f.plugin, "error": f.error} for f in registry.failures]
    if as_json:
        print_json({"providers": loaded, "failures": failed})
    else:
        print_table([p | {"auth_methods": ", ".join(p["auth_methods"]),
                          "verify": "yes" if p["verify_supported"] else "no"} for p in loaded],
                    ["name", "display_name", "version", "package", "auth_methods", "verify"])
        if failed:
            click.echo("\nplugins that failed to load:")
            print_table(failed, ["plugin", "error"])
    if failed:
        sys.exit(1)
