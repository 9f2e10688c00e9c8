"""What every command shares: tables for people, JSON for scripts, and mistakes as one sentence with a non-zero exit."""
from __future__ import annotations

import contextlib
import functools
import json
import sys

import click
from flask import current_app

from hub import tenancy
from hub.errors import HubError
from hub.storage import database as storage


def database():
    return current_app.extensions["hub.db"]


def current_keyring():
    return current_app.extensions["hub.keyring"].get()


# The domain's messages are written for API callers in places; at the command line they name
# commands instead of requests.
_CLI_WORDING = [
    ("Write a new version with PUT.", "Write a new version with 'hub secrets update'."),
    ("Write a new version of it with PUT", "Write a new version of it with 'hub secrets update'"),
    ("GET /v1/providers lists the loaded ones.", "'hub providers list' shows the loaded ones."),
    ("GET /v1/projects lists them.", "'hub projects list' shows them."),
    (" that this key can see.", " in this org ('hub projects list --org ORG' shows an org's)."),
]


def operator(org):
    """The local operator of an org, acting through the CLI (audited as cli:<user>); it carries
    the keyring so that audit checkpoints falling due are signed."""
    return tenancy.operator(org, signer=current_keyring())


def cli_wording(detail: str) -> str:
    for api, cli in _CLI_WORDING:
        detail = detail.replace(api, cli)
    return detail


def _fail(detail: str):
    raise click.ClickException(cli_wording(detail)) from None


def fails_cleanly(func=None, *, uses_database: bool = True, creates: bool = False):
    """Domain, setup and database errors become one message on stderr and exit code 1, not a traceback.

    With `uses_database` the command runs in a connection; the database must already exist unless
    the command `creates` it (`hub init`): a reading command on a hub never set up says "run 'hub
    init'" and leaves no folder or empty database behind.
    """
    if func is None:
        return functools.partial(fails_cleanly, uses_database=uses_database, creates=creates)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        db = database() if uses_database else None
        try:
            if db is None:
                return func(*args, **kwargs)
            if not creates:  # else the first connection makes the SQLite file, mode 0600
                storage.require_existing(db)
            with db.connection_context():
                return func(*args, **kwargs)
        except HubError as exc:
            _fail(str(exc))
        except storage.DRIVER_ERRORS as exc:
            _fail(storage.unavailable(exc, db).detail)

    return wrapper


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _is_terminal(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def print_table(rows: list[dict], columns: list[str]) -> None:
    """A table: plain aligned columns (stable for grep and awk) unless stdout is a terminal, where
    rich fits it to the width, wrapping long cells."""
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    if _is_terminal(sys.stdout):
        from rich.console import Console
        from rich.table import Table

        table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1))
        for column in columns:
            table.add_column(column.upper(), overflow="fold")
        for row in cells:
            table.add_row(*row, style=None)
        Console(highlight=False).print(table)
        return
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


def print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


@contextlib.contextmanager
def progress_lines(description: str):
    """Yields `report(done, total, line)`: a rich progress bar on a terminal's stderr, else one
    `[done/total] line` per step on stderr (logs and pipes keep every step)."""
    if not _is_terminal(sys.stderr):
        yield lambda done, total, line: click.echo(f"[{done}/{total}] {line}", err=True)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(file=sys.stderr), transient=False) as bar:
        task = None

        def report(done, total, line):
            nonlocal task
            if task is None:
                task = bar.add_task(description, total=total)
            bar.console.print(line, highlight=False, markup=False)
            bar.update(task, completed=done, total=total)

        yield report
