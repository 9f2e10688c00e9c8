"""Who is calling: a `Principal` (an API key, or the local operator through the CLI) and what it may do."""
from __future__ import annotations

import dataclasses
import datetime
import getpass
from typing import Any

from hub.errors import Forbidden
from hub.storage.models import Org
from hub.tenancy import permissions as perms


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is calling: the org they act in, what they may do, which projects they reach."""

    org_id: str
    permissions: frozenset[str]
    project_ids: frozenset[str] | None  # None: every project of the org
    key_id: str | None = None  # None: the local operator (CLI)
    actor: str = "cli"  # the key's public id, or "cli:<user>", as audit events name it
    role: str | None = None  # the role the key was made with (an `app` key never writes)
    expires_at: datetime.datetime | None = None  # a key it makes expires no later
    # Where the call came from, for audit events; and what signs audit checkpoints that fall due
    # (the keyring). Not part of who the caller is: not compared, not shown.
    request_id: str | None = dataclasses.field(default=None, compare=False)
    client_ip: str | None = dataclasses.field(default=None, compare=False)
    signer: Any = dataclasses.field(default=None, compare=False, repr=False)

    def require(self, permission: str) -> None:
        if self.role == "app" and permission in perms.APP_NEVER:
            raise Forbidden(f"This is an app key: it reads credentials and secrets but never writes "
                            f"('{permission}'). Use a member or owner key for changes.")
        if permission not in self.permissions:
            raise Forbidden(f"This API key lacks the permission '{permission}'. "
                            "Ask an owner for a key that has it.")

    def reaches(self, project_id: str) -> bool:
        return self.project_ids is None or project_id in self.project_ids


def operator(org: Org, signer=None) -> Principal:
    """The local operator running the CLI on the hub's own machine: every permission in one org.

    :param signer: the keyring, so that audit checkpoints falling due are signed.
    """
    return Principal(org_id=org.id, permissions=frozenset(perms.ALL), project_ids=None,
                     actor=f"cli:{_user()}", signer=signer)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return "unknown"
