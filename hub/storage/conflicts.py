"""Races settled by the database: a write in one transaction whose unique or foreign-key
violation becomes the domain error the caller names (usually a `Conflict`), in one place.

Checking first ("is the name free?") and then writing loses to a concurrent writer; the database's
constraints do not. So writers run inside `atomic_or(...)` and say what a violation means.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import peewee

from hub.errors import HubError
from hub.storage.models import database


@contextlib.contextmanager
def atomic_or(error: HubError | Callable[[], HubError]) -> Iterator[None]:
    """A transaction; if the database refuses it for a constraint, raise `error` instead.

    :param error: the error, or a function making it after the rollback (when what it says
        depends on the database's state then, e.g. whether a parent row still exists).
    """
    try:
        with database.atomic():
            yield
    except peewee.IntegrityError:
        raise (error() if callable(error) else error) from None
