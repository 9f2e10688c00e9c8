"""`hub plugin new NAME`: a ready provider plugin package to start from."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from hub.cli.output import json_option, print_json
from hub.plugins.scaffold import ScaffoldError, new_plugin


@click.group("plugin", cls=AppGroup)
def plugin_group():
    """Writing provider plugins."""


@plugin_group.command("new")
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to write the package folder hub-NAME.")
@json_option
def new_command(name, parent, as_json):
    """Write hub-NAME/: a provider declared with the declarative check, its tests and a README."""
    try:
        root = new_plugin(name, parent)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"Cannot write under {parent}: {exc.strerror}.") from None
    if as_json:
        print_json({"path": str(root), "module": f"hub_{name}"})
        return
    click.echo(f"wrote {root}")
    click.echo(f"next: pip install -e '{root}[test]' && pytest {root}", err=True)
