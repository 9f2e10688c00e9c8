"""Checks every request once, before any view sees it: the caller first, then what it sent.

On `/v1` the bearer key is checked before the body is read (an unauthenticated caller learns
nothing about what the parser would say: a 401, never a 400 or a 500 from a crafted body).

Then text no database can store is refused: PostgreSQL rejects NUL in text and no backend can
encode a lone UTF-16 surrogate (JSON allows "\\u0000" and "\\ud800"). And numbers no column can
hold: JSON has no size limit on integers, Python refuses to parse one over 4,300 digits (a
ValueError, which was a 500) and SQLite refuses to bind one over 64 bits. NaN and Infinity are no
JSON at all (Python's decoder accepts them). Checked here for paths, query strings and JSON
bodies, so every route answers a 400 naming the field rather than a 500 from the decoder or the
driver.
"""
from __future__ import annotations

import json
import math

from flask import request

from hub.api import context
from hub.errors import InvalidInput, NotFound, invalid_field
from hub.storage.storable_text import unstorable

# The widest integer a body may hold: a signed 64-bit column's. Fields with a narrower meaning
# (a version, a page size) have their own range in their schema.
INT_MAX = 2**63 - 1
_OUT_OF_RANGE = "Number out of range."


class _OutOfRange:
    """Stands for a number that was refused, so that the walk below can name its field."""


def _integer(text: str):
    if len(text.lstrip("-")) > 19:  # never asks int() for thousands of digits
        return _OutOfRange()
    value = int(text)
    return value if -INT_MAX - 1 <= value <= INT_MAX else _OutOfRange()


def _float(text: str):
    value = float(text)
    return value if math.isfinite(value) else _OutOfRange()  # 1e400 decodes as inf


def _constant(name: str):
    raise InvalidInput(f"The request body is not valid JSON ({name} is not a JSON number).",
                       errors={"_body": ["Invalid JSON."]})


def decode_json(data: bytes):
    """The body as JSON, with numbers out of range as markers; ValueError if it is no JSON."""
    return json.loads(data, parse_int=_integer, parse_float=_float, parse_constant=_constant)


def _values(value, path: str):
    """(path, leaf) for every string, number and object key in a decoded body."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, key
            yield from _values(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _values(item, f"{path}.{index}" if path else str(index))
    else:
        yield path, value


def _field(path: str) -> str:
    return path if path and not unstorable(path) else "_body"


def refuse_unstorable_input() -> None:
    if unstorable(request.path):
        raise NotFound(f"There is no route {request.method} for that path. See /docs for the API.")
    environ = request.environ
    # Most requests carry no query string and no body (GETs): nothing more to walk, and nothing
    # parsed to find that out.
    if environ.get("QUERY_STRING"):
        for name, value in request.args.items(multi=True):
            problem = unstorable(name) or unstorable(value)
            if problem:
                raise invalid_field(name if not unstorable(name) else "_query", problem)
    # (no Content-Type: not JSON, whatever the body; no route: a 404 or 405, body unread)
    if environ.get("CONTENT_TYPE") and request.is_json and request.url_rule is not None:
        try:
            body = decode_json(request.get_data(cache=True))
            leaves = list(_values(body, ""))
        except RecursionError:
            raise InvalidInput("The JSON body is nested too deeply.",
                               errors={"_body": ["Nested too deeply."]}) from None
        except ValueError:
            return  # not JSON: the view's parser answers with its own 400
        for path, leaf in leaves:
            if isinstance(leaf, _OutOfRange):
                raise InvalidInput(f"{_field(path)}: {_OUT_OF_RANGE} Integers must fit in 64 bits "
                                   "and numbers be finite.",
                                   errors={_field(path): [_OUT_OF_RANGE]})
            problem = unstorable(leaf) if isinstance(leaf, str) else None
            if problem:
                raise invalid_field(_field(path), problem)


def init_app(app) -> None:
    # Larger bodies are refused with a 413 before they are read: no credential or secret is
    # anywhere near a megabyte.
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no limit
        app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.before_request(context.authenticate_first)  # before anything reads the body
    app.before_request(refuse_unstorable_input)
