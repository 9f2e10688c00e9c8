"""Who is calling: a `Principal` (an API key, or the local operator through the CLI) and what it may do."""
from __future__ import annotations

import dataclasses

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
    actor: str = "cli"  # the key's public id, as audit events name it

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"This API key lacks the permission '{permission}'. "
                            "Ask an owner for a key that has it.")

    def reaches(self, project_id: str) -> bool:
        return self.project_ids is None or project_id in self.project_ids


def operator(org: Org) -> Principal:
    """The local operator running the CLI on the hub's own machine: every permission in one org."""
    return Principal(org_id=org.id, permissions=frozenset(perms.ALL), project_ids=None)
