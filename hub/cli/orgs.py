"""`hub orgs`: more orgs, each with an owner key printed once."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from hub import bootstrap
from hub.cli.instance import _report_setup
from hub.cli.output import current_keyring, fails_cleanly


@click.group("orgs", cls=AppGroup)
def orgs_group():
    """Orgs."""


@orgs_group.command("create")
@click.argument("org_name")
@click.option("--project", "project_handle", default=None)
@click.option("--json", "as_json", is_flag=True)
@fails_cleanly
def orgs_create_command(org_name, project_handle, as_json):
    """Another org, with an owner key printed once."""
    setup = bootstrap.ensure_org(current_keyring(), org_name, project_handle, must_be_new=True)
    _report_setup(setup, as_json)
