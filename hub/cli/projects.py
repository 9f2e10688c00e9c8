"""`hub projects`: the projects of an org, listed and made by the local operator."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from hub import tenancy
from hub.cli.output import fails_cleanly, json_option, operator, print_json, print_table
from hub.errors import InvalidInput
from hub.storage.models import Org, Project
from hub.storage.storable_text import unstorable
from hub.timestamps import to_iso

_COLUMNS = ["handle", "id", "display_name", "created_at"]


def _row(project: Project, org: Org) -> dict:
    return {"id": project.id, "handle": project.handle, "display_name": project.display_name,
            "org": org.name, "created_at": to_iso(project.created_at),
            "updated_at": to_iso(project.updated_at)}


def org_named(name: str) -> Org:
    org = Org.get_or_none(Org.name == name)
    if org is None:
        raise click.ClickException(f"No org named '{name}'. 'hub init' makes the first one; "
                                   "'hub orgs create ORG' another.")
    return org


@click.group("projects", cls=AppGroup)
def projects_group():
    """Projects of an org."""


@projects_group.command("list")
@click.option("--org", "org_name", default="default", show_default=True)
@json_option
@fails_cleanly
def projects_list_command(org_name, as_json):
    """The org's projects, oldest first."""
    org = org_named(org_name)
    query = tenancy.list_projects(operator(org)).order_by(Project.created_at, Project.id)
    rows = [_row(p, org) for p in query]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, _COLUMNS)


@projects_group.command("create")
@click.argument("handle")
@click.option("--org", "org_name", default="default", show_default=True)
@click.option("--display-name", default=None, help="A name for people (at most 255 characters).")
@json_option
@fails_cleanly
def projects_create_command(handle, org_name, display_name, as_json):
    """A new project in the org (HANDLE: 2-63 lowercase letters, digits and '-')."""
    if display_name is not None:
        problem = unstorable(display_name) or (len(display_name) > 255 and "At most 255 characters.")
        if problem:
            raise click.BadParameter(problem, param_hint="--display-name")
    org = org_named(org_name)
    try:
        project = tenancy.create_project(operator(org), handle, display_name)
    except InvalidInput as exc:
        messages = (exc.errors or {}).get("handle")
        if messages:  # the domain names the API's field; here it is the argument
            raise click.ClickException(f"HANDLE: {' '.join(messages)}") from None
        raise
    row = _row(project, org)
    if as_json:
        print_json(row)
    else:
        print_table([row], _COLUMNS)
