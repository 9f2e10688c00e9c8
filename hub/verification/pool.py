"""Running the checks that API requests start, apart from the request threads, a few per org.

A check calls an address that an API user chose, and may take its whole timeout. So checks run in
a process-wide pool of `size` threads; at most `max_per_org` of one org's checks run at once (in
this process, and across processes through the database's leases, `SlotLeases`); and a check
that cannot start within `start_wait` seconds (its org's places, or every pool thread, taken) is
refused with `RateLimited` (a 429 with Retry-After). A request thread waits for its check's
result at most the check's timeout plus a margin; a check that overruns answers `timeout`, and
keeps its place until it really ends. At most `max_per_org` more of an org's requests wait for a
place at a time; beyond that they are refused at once, so one org's burst holds few request
threads, and those for a second at most.

`hub integrations verify` (the bulk CLI) does not come here: it runs its own pool, sized by
`--concurrency`.
"""
from __future__ import annotations

import concurrent.futures
import contextvars
import datetime
import math
import threading
import time
from typing import Any, Callable

from hub.errors import RateLimited, Unavailable
from hub.settings import verify_limit, verify_timeout
from hub.timestamps import to_iso
from hub.verification.slots import Lease, SlotLeases

START_WAIT_SECONDS = 1.0  # how long a check may wait for a place before the request is refused
OVERRUN_MARGIN_SECONDS = 1.0  # past its timeout, how long a request still waits for its check


def lease_seconds_for(timeout: float) -> float:
    """How long a place stays taken if its process dies: longer than a check of a few calls."""
    return 3 * timeout + 10


class CheckPool:
    """The pool that API requests' checks run in (one per app, made by `pool_from_settings`)."""

    def __init__(self, *, size: int, max_per_org: int, timeout: float,
                 leases: SlotLeases | None = None, start_wait: float = START_WAIT_SECONDS,
                 margin: float = OVERRUN_MARGIN_SECONDS):
        self.size = size
        self.max_per_org = max_per_org
        self.timeout = timeout
        self.leases = leases
        self.start_wait = start_wait
        self.margin = margin
        # Threads start on first use, in the process that serves (after a gunicorn fork).
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=size,
                                                               thread_name_prefix="hub-check")
        self._idle = threading.BoundedSemaphore(size)  # pool threads free to start a check
        self._changed = threading.Condition()
        self._started: dict[str, list[float]] = {}  # org -> monotonic start of each running check
        self._waiting: dict[str, int] = {}  # org -> its requests waiting for a place

    def run(self, org_id: str, check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The result of `check()` (a verification result), run in the pool for `org_id`.

        :raises RateLimited: the check could not start within `start_wait` seconds.
        :raises Unavailable: the pool no longer takes work (the process is exiting).
        """
        until = time.monotonic() + self.start_wait
        started = self._take_org_place(org_id, until)
        lease = None
        try:
            if not self._idle.acquire(timeout=max(0.0, until - time.monotonic())):
                raise RateLimited(f"All {self.size} of the hub's check threads are busy: try again "
                                  "shortly.", retry_after=1)
            try:
                if self.leases is not None:
                    lease = self.leases.take(org_id, until)
                    if lease is None:
                        raise self._org_busy(org_id, elsewhere=True)
            except BaseException:
                self._idle.release()
                raise
        except BaseException:
            self._leave_org_place(org_id, started)
            raise
        checked_at = datetime.datetime.now(datetime.timezone.utc)
        try:
            future = self._executor.submit(contextvars.copy_context().run, self._run_then_free,
                                           check, org_id, started, lease)
        except RuntimeError:  # the executor is shut down (interpreter exit): nothing will run
            self._free(org_id, started, lease)
            raise Unavailable("The hub is shutting down: try the check again shortly.") from None
        try:
            return future.result(timeout=self.timeout + self.margin)
        except concurrent.futures.TimeoutError:
            # The check goes on (a thread cannot be stopped) and keeps its place until it ends;
            # the caller is answered now, as for a provider that did not answer in time.
            return overrun_result(checked_at, self.timeout + self.margin)

    def running(self, org_id: str) -> int:
        """How many of the org's checks run in this process now."""
        with self._changed:
            return len(self._started.get(org_id, ()))

    def waiting(self, org_id: str) -> int:
        """How many of the org's requests wait for a place in this process now."""
        with self._changed:
            return self._waiting.get(org_id, 0)

    def _run_then_free(self, check, org_id: str, started: float, lease: Lease | None):
        try:
            return check()
        finally:
            self._free(org_id, started, lease)

    def _free(self, org_id: str, started: float, lease: Lease | None) -> None:
        """Give back what `run` took for a check: its lease, its pool thread, its org place."""
        try:
            if lease is not None:
                self.leases.give_back(lease)
        finally:
            self._idle.release()
            self._leave_org_place(org_id, started)

    def _take_org_place(self, org_id: str, until: float) -> float:
        with self._changed:
            if self._full(org_id) and self._waiting.get(org_id, 0) >= self.max_per_org:
                raise self._org_busy(org_id)
            self._waiting[org_id] = self._waiting.get(org_id, 0) + 1
            try:
                while self._full(org_id):
                    remaining = until - time.monotonic()
                    if remaining <= 0:
                        raise self._org_busy(org_id)
                    self._changed.wait(remaining)
                started = time.monotonic()
                self._started.setdefault(org_id, []).append(started)
                return started
            finally:
                self._waiting[org_id] -= 1
                if not self._waiting[org_id]:
                    del self._waiting[org_id]

    def _leave_org_place(self, org_id: str, started: float) -> None:
        with self._changed:
            starts = self._started.get(org_id, [])
            starts.remove(started)
            if not starts:
                self._started.pop(org_id, None)
            self._changed.notify_all()

    def _full(self, org_id: str) -> bool:
        return len(self._started.get(org_id, ())) >= self.max_per_org

    def _org_busy(self, org_id: str, *, elsewhere: bool = False) -> RateLimited:
        # Called holding `_changed` or not: reads a snapshot of the start times.
        starts = list(self._started.get(org_id, ()))
        if elsewhere or not starts:  # the places are held by other processes: no start time here
            wait = self.timeout
        else:
            wait = min(starts) + self.timeout - time.monotonic()
        where = " on this hub's servers" if elsewhere else ""
        return RateLimited(f"This org already has {self.max_per_org} credential checks running"
                           f"{where} (HUB_VERIFY_MAX_PER_ORG): try again when one has finished.",
                           retry_after=max(1, math.ceil(wait)))


def overrun_result(checked_at: datetime.datetime, waited: float) -> dict[str, Any]:
    """The verification result of a check that did not finish while its request waited."""
    return {"ok": False, "checked_at": to_iso(checked_at), "duration_ms": round(waited * 1000),
            "identity": None, "scopes": None, "expires_at": None,
            "error": {"code": "timeout", "message": f"The check did not finish within {waited:g} s."}}


def pool_from_settings(settings, db) -> CheckPool:
    """The app's pool: HUB_VERIFY_POOL_SIZE threads, HUB_VERIFY_MAX_PER_ORG places per org (leased
    in `db`, so the bound is shared by every process on it), HUB_VERIFY_TIMEOUT."""
    timeout = verify_timeout(settings)
    max_per_org = verify_limit(settings, "VERIFY_MAX_PER_ORG")
    return CheckPool(size=verify_limit(settings, "VERIFY_POOL_SIZE"), max_per_org=max_per_org,
                     timeout=timeout,
                     leases=SlotLeases(db, max_per_org, lease_seconds_for(timeout)))
