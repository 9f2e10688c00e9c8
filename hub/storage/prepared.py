"""Peewee queries compiled once per database, then run with new parameters.

On the paths every request takes (the API-key lookup, finding a project) peewee's query compiler
costs more than the database's index lookup. A `Prepared` query is built once with named slots,
compiled by peewee for the bound database, and from then on run as that SQL with the slots filled.
"""
from __future__ import annotations

import datetime
import logging
from typing import Callable

import peewee

from hub.storage.models import database

_MARK = "\x00slot:"  # no value a request can send contains NUL (refused at the door)


def slot(name: str) -> str:
    """A placeholder value for `name` inside a query given to `Prepared`."""
    return f"{_MARK}{name}\x00"


def raw_slot(name: str) -> peewee.Value:
    """A placeholder for a value that the field must not convert while compiling (an integer, a
    date, JSON in an INSERT or UPDATE): `execute` is then given the value as the database takes it
    (`Field.db_value(...)`)."""
    return peewee.Value(slot(name), converter=False)


def _datetime_from(field: peewee.DateTimeField):
    """A DateTimeField's python_value, minus peewee's layers on the common case: SQLite's text
    is ISO 8601, which `fromisoformat` reads as peewee does (it calls the same function after
    swapping ' ' for 'T' and 'Z' for '+00:00', both of which Python 3.11's reads as they are)."""
    slow = field.python_value
    fromisoformat = datetime.datetime.fromisoformat

    def convert(value):
        if isinstance(value, str) and len(value) > 10:
            try:
                return fromisoformat(value)
            except ValueError:
                pass
        return slow(value)

    return convert


def _converter(field):
    # Only peewee's own DateTimeField (a subclass may convert otherwise).
    if type(field) is peewee.DateTimeField:
        return _datetime_from(field)
    return field.python_value


def _plain_execution(db: peewee.Database) -> bool:
    """Whether running SQL on `db` is only a cursor's execute: peewee's own execute_sql and
    cursor (not a subclass's), no query hooks, and peewee's debug log (every query) off."""
    kind = type(db)
    return (kind.execute_sql is peewee.Database.execute_sql
            and kind._execute_cursor is peewee.Database._execute_cursor
            and kind.cursor is peewee.Database.cursor
            and not getattr(db, "query_hooks", None)
            and not peewee.logger.isEnabledFor(logging.DEBUG))


class _Plan:
    """A `Prepared` query as compiled for one database: its SQL, where each parameter comes from,
    and (for `first`) each result column's field name and converter, worked out on first use."""

    __slots__ = ("sql", "steps", "columns")

    def __init__(self, sql: str, steps: list):
        self.sql, self.steps, self.columns = sql, steps, None


class Prepared:
    def __init__(self, model, build: Callable[[], object]):
        self._model = model
        self._build = build

    def _plan(self) -> tuple[peewee.Database, _Plan]:
        db = database.obj
        if db is None:
            database.execute_sql  # noqa: B018 - the proxy raises InterfaceError, saying how to bind one
        # Kept on the database itself (one dict lookup per query), so its plans go with it.
        plans = db.__dict__.get("_hub_prepared_plans")
        if plans is None:
            plans = db.__dict__.setdefault("_hub_prepared_plans", {})
        plan = plans.get(self)
        if plan is None:
            sql, params = self._build().sql()
            steps = [(p[len(_MARK):-1], None) if isinstance(p, str) and p.startswith(_MARK)
                     else (None, p) for p in params]
            plan = plans[self] = _Plan(sql, steps)
        return db, plan

    def _run(self, values):
        db, plan = self._plan()
        params = [values[name] if name is not None else fixed for name, fixed in plan.steps]
        conn = db._state.conn
        if conn is None or not _plain_execution(db):
            return db.execute_sql(plan.sql, params), plan, params
        # What peewee's execute_sql does on an open connection with no hooks and no debug log,
        # minus its layers: the driver's errors become peewee's as they would there.
        with peewee.__exception_wrapper__:
            cursor = conn.cursor()
            cursor.execute(plan.sql, params)
        return cursor, plan, params

    def first(self, **values):
        """The first model instance the query finds with these slot values, or None."""
        cursor, plan, params = self._run(values)
        row = cursor.fetchone()
        if row is None:
            return None
        # Built here rather than by peewee's cursor wrapper, which maps the result's columns to
        # fields again for every query: that cost as much as the lookup itself.
        if plan.columns is None:
            plan.columns = self._columns(cursor.description)
        if plan.columns is False:  # a column that is not one of the model's fields: peewee's way
            return next(iter(self._model.raw(plan.sql, *params)), None)
        instance = self._model(__no_default__=True)
        instance.__data__ = {name: value if value is None or convert is None else convert(value)
                             for (name, convert), value in zip(plan.columns, row)}
        return instance

    def _columns(self, description):
        """(field name, python_value) per result column, or False if one is not a field."""
        by_column = self._model._meta.columns
        fields = [by_column.get(column[0]) for column in description]
        # (`is None`: a field compared with == makes an SQL expression, which is truthy)
        if any(field is None for field in fields):
            return False
        return [(field.name, _converter(field)) for field in fields]

    def execute(self, **values) -> int:
        """Run an INSERT or UPDATE with these slot values; returns the rows it changed."""
        return self._run(values)[0].rowcount
