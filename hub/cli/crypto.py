"""`hub crypto`: the keyring's data keys and their rotation."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from hub.cli.output import current_keyring, fails_cleanly, print_json, print_table
from hub.crypto import operations
from hub.timestamps import to_iso


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
    new_id = operations.rotate(current_keyring())
    click.echo(f"new primary data key: {new_id}. Older keys stay active to open what they sealed; "
               "'hub crypto status' shows how many ciphertexts each still protects.")
