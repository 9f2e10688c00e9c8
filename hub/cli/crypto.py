"""`hub crypto`: the keyring's data keys, their rotation and retirement, rewrapping every
ciphertext under the primary, and rotating the root key."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from hub.cli.output import (
    current_keyring,
    fails_cleanly,
    json_option,
    print_json,
    print_table,
    progress_lines,
)
from hub.crypto import operations
from hub.crypto import rewrap as rewrapping
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


@crypto_group.command("retire")
@click.argument("key_id")
@json_option
@fails_cleanly
def crypto_retire_command(key_id, as_json):
    """Mark a data key retired: refused for the primary and for a key that still protects a
    ciphertext ('hub crypto rewrap' moves them off it)."""
    changed = operations.retire(current_keyring(), key_id)
    if as_json:
        print_json({"id": key_id, "state": "retired", "changed": changed})
    elif changed:
        click.echo(f"data key {key_id} retired: it protects no ciphertext, and no record is sealed "
                   "with it again.")
    else:
        click.echo(f"data key {key_id} was retired already.")


@crypto_group.command("rewrap")
@click.option("--batch-size", default=rewrapping.DEFAULT_BATCH_SIZE, show_default=True,
              type=click.IntRange(1, 100_000), help="Rows per batch; each batch is one transaction.")
@click.option("--pause", default=0.0, show_default=True, type=click.FloatRange(0, 60),
              help="Seconds to wait after each batch, leaving the database to the servers.")
@click.option("--retire", "retire_emptied", is_flag=True,
              help="Then retire every active data key that protects nothing any more.")
@json_option
@fails_cleanly
def crypto_rewrap_command(batch_size, pause, retire_emptied, as_json):
    """Re-encrypt every ciphertext under the primary data key, in batches, while servers serve.

    Safe to interrupt and to run again: each batch commits whole, a rerun skips what is done, and a
    record written meanwhile is never overwritten. Exit 1 if a record does not open."""
    keyring = current_keyring()
    with progress_lines("rewrapping") as report:
        summary, retired = operations.rewrap(keyring, batch_size=batch_size, pause=pause,
                                             retire_emptied=retire_emptied, progress=report)
    rate = summary.rewrapped / summary.seconds if summary.seconds > 0 else 0.0
    left = sum(summary.remaining.values())
    if as_json:
        print_json({"primary": summary.primary, "rewrapped": summary.rewrapped,
                    "skipped": summary.skipped,
                    "failed": [{"table": t, "id": i} for t, i in summary.failed],
                    "from_keys": summary.from_keys, "remaining": summary.remaining,
                    "retired": retired, "columns": [c.as_dict() for c in summary.columns],
                    "passes": summary.passes, "seconds": round(summary.seconds, 3),
                    "records_per_second": round(rate)})
    else:
        print_table([c.as_dict() | {"from_keys": " ".join(f"{k}:{n}" for k, n in c.from_keys.items())}
                     for c in summary.columns],
                    ["table", "column", "rewrapped", "skipped", "failed", "from_keys"])
        click.echo(f"{_count(summary.rewrapped, 'ciphertext')} rewrapped under {summary.primary} in "
                   f"{summary.seconds:.1f} s ({rate:,.0f}/s); {summary.skipped} written meanwhile "
                   f"(already on the primary); {left} left on older keys.")
        for table, row_id in summary.failed:
            click.echo(f"does not open: {table} {row_id} (left as it is)")
        if retired:
            click.echo(f"retired: {', '.join(retired)}")
        elif left == 0 and not summary.failed:
            click.echo("'hub crypto retire KEY' (or --retire) marks the emptied keys retired.")
    if summary.failed:
        raise SystemExit(1)


@crypto_group.command("rotate-root")
@json_option
@fails_cleanly
def crypto_rotate_root_command(as_json):
    """Re-encrypt the keyring under a new root key; the old key is refused from then on.

    With the key file, the new key replaces root.key (the old one is kept beside it). With
    HUB_ROOT_KEY, the new key is printed once: put it in the secret store before restarting."""
    config = current_app.config
    finished = operations.finish_interrupted_root_rotation(config)
    if finished is not None:
        _report_root_rotation(finished, as_json)
        return
    from_env = config.get("ROOT_KEY") is not None

    def announce(encoded: str) -> None:  # inside the transaction, before it commits
        if as_json:
            click.echo(json.dumps({"root_key": encoded, "key_source": "HUB_ROOT_KEY"}, indent=2,
                                  sort_keys=True))
        else:
            click.echo(f"new root key (shown once): {encoded}")
        sys.stdout.flush()

    try:
        done = operations.rotate_root(current_keyring(), config, announce=announce)
    except BaseException:
        if from_env:
            click.echo("The rotation did not complete: if the hub still starts with the old "
                       "HUB_ROOT_KEY, nothing changed and the key printed above (if any) is unused.",
                       err=True)
        raise
    if from_env:
        click.echo(f"root key rotated: {done.entries} keyring entries re-encrypted. Put the new key "
                   "in HUB_ROOT_KEY (your secret store) before restarting anything: the old key no "
                   "longer opens the keyring. Restart every server with it.", err=True)
        return
    _report_root_rotation(done, as_json)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _report_root_rotation(done: operations.RootRotation, as_json: bool) -> None:
    if as_json:
        print_json({"entries": done.entries, "key_source": "root_key_file",
                    "key_file": str(done.key_file),
                    "old_key_file": str(done.old_key_file) if done.old_key_file else None,
                    "finished_interrupted": done.finished_interrupted})
        return
    what = ("finished an interrupted root key rotation" if done.finished_interrupted
            else f"root key rotated: {done.entries} keyring entries re-encrypted")
    kept = (f" The old key is kept in {done.old_key_file}: database backups from before now open "
            "only with it; destroy it if it was exposed." if done.old_key_file else "")
    click.echo(f"{what}; the new key is in {done.key_file}.{kept} Restart every server: running "
               "ones cannot reload the keyring with the old key.")
