"""`hub keys`: API keys, made and revoked by the local operator."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from hub import tenancy
from hub.cli.output import current_keyring, fails_cleanly, operator, print_json, print_table
from hub.errors import InvalidInput
from hub.secrets.store import printable
from hub.storage.models import ApiKey, Org
from hub.storage.storable_text import unstorable
from hub.timestamps import to_iso


def _key_row(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "api_key": key.public_id, "role": key.role,
            "permissions": key.permissions, "projects": tenancy.project_handles(key.projects),
            "created_at": to_iso(key.created_at), "expires_at": to_iso(key.expires_at),
            "revoked_at": to_iso(key.revoked_at)}


@click.group("keys", cls=AppGroup)
def keys_group():
    """API keys."""


def _org(name: str) -> Org:
    org = Org.get_or_none(Org.name == name)
    if org is None:
        raise click.ClickException(f"No org named '{printable(name)}'. 'hub init' makes the first one.")
    return org


def _as_options(exc: InvalidInput, org_name: str) -> str:
    """The domain names the API's fields (`projects.0`, `name`); here they are options."""
    sentences = []
    for field, messages in (exc.errors or {}).items():
        if field.startswith("projects."):
            sentences.append(f"--project: {' '.join(messages).replace(' that this key can see.', '')} "
                             f"in org '{org_name}' ('hub projects list --org {org_name}' shows them).")
        elif field in ("name", "role"):
            sentences.append(f"--{field}: {' '.join(messages)}")
        else:
            sentences.append(f"{field}: {' '.join(messages)}")
    return " ".join(sentences) or exc.detail


@keys_group.command("create")
@click.option("--org", "org_name", default="default", show_default=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["owner", "member", "app"]), default="member", show_default=True)
@click.option("--project", "projects", multiple=True, help="Limit the key to this project (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def keys_create_command(org_name, name, role, projects, as_json):
    """Make an API key; its secret is printed once."""
    if any(unstorable(ref) for ref in projects):
        raise click.BadParameter("not a project handle or id (it holds NUL or undecodable bytes).",
                                 param_hint="--project")
    org = _org(org_name)
    try:
        key, secret = tenancy.create_api_key(current_keyring(), operator(org), name=name,
                                             role=role, projects=list(projects) or None)
    except InvalidInput as exc:
        raise click.ClickException(_as_options(exc, org_name)) from None
    row = _key_row(key) | {"secret": secret}
    if as_json:
        print_json(row)
    else:
        print_table([row], ["id", "name", "api_key", "role", "secret"])
        click.echo("Store the secret now: it is shown this once and kept only as a hash.", err=True)


@keys_group.command("list")
@click.option("--org", "org_name", default="default", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def keys_list_command(org_name, as_json):
    """The org's API keys (never their secrets)."""
    org = _org(org_name)
    rows = [_key_row(k) for k in ApiKey.select().where(ApiKey.org == org.id).order_by(ApiKey.id)]
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            row["status"] = "revoked" if row["revoked_at"] else "active"
        print_table(rows, ["id", "name", "api_key", "role", "status", "expires_at"])


@keys_group.command("revoke")
@click.argument("key_id")
@fails_cleanly
def keys_revoke_command(key_id):
    """Revoke a key by id or api_key; every later call with it answers 401."""
    key = None if unstorable(key_id) else ApiKey.get_or_none((ApiKey.id == key_id) | (ApiKey.public_id == key_id))
    if key is None:
        raise click.ClickException(f"No API key '{printable(key_id)}'. 'hub keys list' shows them.")
    key = tenancy.revoke_api_key(operator(key.org), key.id)
    click.echo(f"revoked {key.public_id} ({key.name}) at {to_iso(key.revoked_at)}")
