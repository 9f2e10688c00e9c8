"""What every command shares: tables for people, JSON for scripts, and mistakes as one sentence with a non-zero exit."""
from __future__ import annotations

import functools
import json

import click
from flask import current_app

from hub.errors import HubError


def database():
    return current_app.extensions["hub.db"]


def current_keyring():
    return current_app.extensions["hub.keyring"].get()


def fails_cleanly(func):
    """Domain and setup errors become a one-paragraph message and exit code 1, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with database().connection_context():
                return func(*args, **kwargs)
        except HubError as exc:
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
