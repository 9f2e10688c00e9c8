"""Peewee queries compiled once per database, then run with new parameters.

On the paths every request takes (the API-key lookup, finding a project) peewee's query compiler
costs more than the database's index lookup. A `Prepared` query is built once with named slots,
compiled by peewee for the bound database, and from then on run as that SQL with the slots filled.
"""
from __future__ import annotations

import weakref
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


class Prepared:
    def __init__(self, model, build: Callable[[], object]):
        self._model = model
        self._build = build
        # database -> (sql, parameter plan); weak, so a closed database's plan goes with it
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._columns_by_db: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _plan(self):
        db = database.obj
        plan = self._compiled.get(db)
        if plan is None:
            sql, params = self._build().sql()
            steps = [(p[len(_MARK):-1], None) if isinstance(p, str) and p.startswith(_MARK)
                     else (None, p) for p in params]
            plan = self._compiled[db] = (sql, steps)
        return plan

    def _params(self, values):
        sql, steps = self._plan()
        return sql, [values[name] if name is not None else fixed for name, fixed in steps]

    def first(self, **values):
        """The first model instance the query finds with these slot values, or None."""
        sql, params = self._params(values)
        cursor = database.execute_sql(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        # Built here rather than by peewee's cursor wrapper, which maps the result's columns to
        # fields again for every query: that cost as much as the lookup itself.
        columns = self._columns(cursor.description)
        if columns is None:  # a column that is not one of the model's fields: peewee's way
            return next(iter(self._model.raw(sql, *params)), None)
        instance = self._model(__no_default__=True)
        instance.__data__ = {name: value if value is None or convert is None else convert(value)
                             for (name, convert), value in zip(columns, row)}
        return instance

    def _columns(self, description):
        """(field name, python_value) per result column, worked out once per database."""
        db = database.obj
        columns = self._columns_by_db.get(db)
        if columns is None:
            by_column = self._model._meta.columns
            fields = [by_column.get(column[0]) for column in description]
            # (`is None`: a field compared with == makes an SQL expression, which is truthy)
            columns = (None if any(field is None for field in fields) else
                       [(field.name, field.python_value) for field in fields])
            self._columns_by_db[db] = columns or False
        return columns or None

    def execute(self, **values) -> int:
        """Run an INSERT or UPDATE with these slot values; returns the rows it changed."""
        sql, params = self._params(values)
        return database.execute_sql(sql, params).rowcount
