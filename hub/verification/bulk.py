"""Checking many integrations against their providers, a few at a time, resumably.

A run writes a small state file (its start time and scope) in the instance folder and removes it
when it finishes. A run that finds such a file for the same scope resumes: it skips integrations
whose last check is newer than the interrupted run's start.
"""
from __future__ import annotations

import concurrent.futures
import contextvars
import dataclasses
import datetime
import hashlib
import json
from pathlib import Path
from typing import Callable

from hub import tenancy
from hub.errors import HubError
from hub.services import Services
from hub.storage.models import Integration, Org, Project, database, utcnow
from hub.timestamps import parse_iso, to_iso
from hub.verification.record import check_and_record


@dataclasses.dataclass
class Outcome:
    integration: Integration
    project_handle: str
    result: dict | None  # the verification result, or None when the check could not run
    problem: str | None = None  # why it could not run

    @property
    def ok(self) -> bool:
        return bool(self.result and self.result["ok"])


class RunState:
    """The resumable state of one scope's run, kept as JSON in the instance folder."""

    def __init__(self, folder: Path, scope: str):
        digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
        self.path = Path(folder) / "runs" / f"integrations-verify-{digest}.json"
        self.scope = scope

    def begin(self, restart: bool) -> tuple[datetime.datetime, bool]:
        """The run's start time and whether it resumes an interrupted one."""
        if self.path.exists() and not restart:
            saved = json.loads(self.path.read_text())
            return parse_iso(saved["started_at"]), True
        started = utcnow()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"scope": self.scope, "started_at": to_iso(started)}))
        return started, False

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)


def _checked_since(row: Integration, started: datetime.datetime) -> bool:
    checked_at = (row.last_verification or {}).get("checked_at")
    if not checked_at:
        return False
    return parse_iso(checked_at) >= started


def select(project_ids: list[str] | None) -> list[tuple[Integration, str]]:
    """Integrations with their project handles, in id order (project-scoped ones only for now)."""
    query = (Integration.select(Integration, Project.handle.alias("project_handle"))
             .join(Project, on=(Integration.project == Project.id)).order_by(Integration.id))
    if project_ids is not None:
        query = query.where(Integration.project.in_(project_ids))
    return [(row, row.project_handle) for row in query.objects()]


def _check_one(services: Services, row: Integration, handle: str) -> Outcome:
    with database.connection_context():  # each worker thread has its own connection
        try:
            # The local operator of the row's org runs the check (audited as cli:<user>).
            operator = tenancy.operator(Org(id=row.org_id), signer=services.keyring)
            return Outcome(row, handle, check_and_record(services, row, operator))
        except HubError as exc:
            return Outcome(row, handle, None, exc.detail)


def run(services: Services, rows: list[tuple[Integration, str]], *,
        started: datetime.datetime, resumed: bool, concurrency: int,
        progress: Callable[[int, int, Outcome], None]) -> tuple[list[Outcome], int]:
    """Check every row not already checked in this run; returns (outcomes, skipped)."""
    todo = [(r, h) for r, h in rows if not (resumed and _checked_since(r, started))]
    skipped = len(rows) - len(todo)
    outcomes: list[Outcome] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        # Each task runs in a copy of this context, so the models use this hub's database there too.
        futures = [pool.submit(contextvars.copy_context().run, _check_one, services, row, handle)
                   for row, handle in todo]
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            outcome = future.result()
            outcomes.append(outcome)
            progress(done, len(todo), outcome)
    outcomes.sort(key=lambda o: (o.project_handle, o.integration.name))
    return outcomes, skipped
