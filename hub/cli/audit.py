"""`hub audit`: checking the audit chains, exporting them for a SIEM, signing checkpoints.

`verify` walks each org's chain in the database and checks its signed checkpoints; with `--file`
it checks an export with nothing but the public key (no database, no root key). `export` writes
JSON lines (events with their checkpoints), signing the head first so the export ends covered.
"""
from __future__ import annotations

import base64
import binascii
import json
import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from hub.audit import checkpoints, verification
from hub.audit import export as audit_export
from hub.audit import log as audit_log
from hub.cli.output import current_keyring, fails_cleanly, json_option, print_json, print_table
from hub.storage.models import Org
from hub.timestamps import parse_iso


@click.group("audit", cls=AppGroup)
def audit_group():
    """The audit log: verify its chains, export it, sign checkpoints."""


def _orgs(name: str | None) -> list[Org]:
    if name is None:
        return list(Org.select().order_by(Org.name))
    org = Org.get_or_none(Org.name == name)
    if org is None:
        raise click.ClickException(f"No org named '{name}'. 'hub orgs create' makes one; 'hub init' "
                                   "made 'default'.")
    return [org]


def _public_key(text: str) -> bytes:
    """The verifying key: base64 of its 32 bytes, given as text or as a file holding it."""
    path = Path(text)
    value = path.read_text().strip() if path.is_file() else text.strip()
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise click.BadParameter("give the base64 public key (32 bytes), or a file holding it, as "
                                 "'hub audit public-key' or GET /v1/audit-checkpoints/public-key prints it.",
                                 param_hint="--public-key")
    return key


def _report(reports, as_json: bool) -> None:
    rows = [{"org": r.org, "events": r.events, "checkpoints": r.checkpoints,
             "result": "ok" if r.ok else r.problem} for r in reports]
    if as_json:
        print_json({"orgs": rows, "ok": all(r.ok for r in reports)})
    else:
        print_table(rows, ["org", "events", "checkpoints", "result"])
    if not all(r.ok for r in reports):
        click.echo("The audit log does not verify: the first problem of each chain is shown above.",
                   err=True)
        sys.exit(1)


@audit_group.command("verify")
@click.option("--org", "org_name", help="Only this org's chain (default: every org's).")
@click.option("--file", "export_file", type=click.File("r"),
              help="Check an export from 'hub audit export' instead of the database ('-' reads stdin).")
@click.option("--public-key", help="With --file: the verifying key (base64, or a file holding it).")
@json_option
def verify_command(org_name, export_file, public_key, as_json):
    """Walk the chains and their signed checkpoints; report the first event changed, removed,
    inserted or reordered (exit 1)."""
    if export_file is not None:
        if not public_key:
            raise click.UsageError("--file needs --public-key (what 'hub audit public-key' prints).")
        _offline(export_file, public_key, as_json)
        return
    if public_key:
        raise click.UsageError("--public-key goes with --file; the database check uses the hub's own keys.")
    _in_database(org_name, as_json)


@fails_cleanly(uses_database=False)
def _offline(export_file, public_key, as_json):
    _report(verification.check_export(export_file, _public_key(public_key)), as_json)


@fails_cleanly
def _in_database(org_name, as_json):
    keys = current_keyring().verify_keys()
    orgs = _orgs(org_name)
    reports = []
    for org in orgs:
        report = verification.check_org(org.id, keys)
        report.org = org.name
        reports.append(report)
    _report(reports, as_json)


@audit_group.command("export")
@click.option("--org", "org_name", help="Only this org (default: every org).")
@click.option("--since", help="Only events at or after this time (ISO 8601, e.g. 2026-12-01T00:00:00Z).")
@click.option("--follow", is_flag=True, help="Keep writing new events as they come (Ctrl-C stops).")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="With --follow: seconds between looks for new events.")
@fails_cleanly
def export_command(org_name, since, follow, interval):
    """Write the audit log as JSON lines (events and checkpoints), for a SIEM."""
    try:
        since_at = parse_iso(since) if since else None
    except ValueError:
        raise click.BadParameter("not an ISO 8601 time (e.g. 2026-12-01T00:00:00Z).",
                                 param_hint="--since") from None
    keyring = current_keyring()
    orgs = _orgs(org_name)
    exported = {org.id: 0 for org in orgs}  # the last event seq written, per org
    marked = {org.id: 0 for org in orgs}  # the last checkpoint seq written, per org
    first = True
    try:
        while True:
            for org in orgs:
                # Signed first, so what is written ends on a checkpoint (when following: only
                # when one is due, as the server would).
                audit_log.sign_head(keyring, org.id, only_if_due=not first)
                for line in audit_export.lines_after(org.id, exported[org.id], since=since_at):
                    if line["type"] == "event":
                        exported[org.id] = line["seq"]
                    elif line["seq"] <= marked[org.id]:
                        continue
                    else:
                        marked[org.id] = line["seq"]
                    click.echo(json.dumps(line, sort_keys=True))
                # Checkpoints the server signed after their event was written out.
                for line in audit_export.checkpoints_between(org.id, marked[org.id], exported[org.id]):
                    marked[org.id] = line["seq"]
                    click.echo(json.dumps(line, sort_keys=True))
            first = False
            if not follow:
                return
            sys.stdout.flush()
            time.sleep(interval)
    except KeyboardInterrupt:
        return


@audit_group.command("checkpoint")
@click.option("--org", "org_name", help="Only this org (default: every org).")
@click.option("--force", is_flag=True, help="Sign every head with events no checkpoint covers, due or not.")
@json_option
@fails_cleanly
def checkpoint_command(org_name, force, as_json):
    """Sign the chain heads that are due a checkpoint (an hour or 1,000 events): run it from cron."""
    keyring = current_keyring()
    rows = [{"org": org.name, "signed": audit_log.sign_head(keyring, org.id, only_if_due=not force)}
            for org in _orgs(org_name)]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["org", "signed"])


@audit_group.command("public-key")
@json_option
@fails_cleanly
def public_key_command(as_json):
    """The Ed25519 key that verifies checkpoints (base64), for 'hub audit verify --file'."""
    record = checkpoints.public_key_record(current_keyring())
    if as_json:
        print_json(record)
    else:
        click.echo(record["public_key"])
