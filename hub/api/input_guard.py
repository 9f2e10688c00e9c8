"""Refuses text no database can store, before any view sees it.

PostgreSQL rejects NUL in text and no backend can encode a lone UTF-16 surrogate (JSON allows
"\\u0000" and "\\ud800"). Checked once here for paths, query strings and JSON bodies, so every
route answers a 400 naming the field rather than a 500 from the driver.
"""
from __future__ import annotations

import json

from flask import request

from hub.errors import InvalidInput, NotFound, invalid_field
from hub.storage.storable_text import unstorable


def _strings(value, path: str):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, key
            yield from _strings(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}" if path else str(index))


def refuse_unstorable_text() -> None:
    if unstorable(request.path):
        raise NotFound(f"There is no route {request.method} for that path. See /docs for the API.")
    for name, value in request.args.items(multi=True):
        problem = unstorable(name) or unstorable(value)
        if problem:
            raise invalid_field(name if not unstorable(name) else "_query", problem)
    if request.is_json:
        try:
            body = json.loads(request.get_data(cache=True))
            strings = list(_strings(body, ""))
        except RecursionError:
            raise InvalidInput("The JSON body is nested too deeply.",
                               errors={"_body": ["Nested too deeply."]}) from None
        except ValueError:
            return  # not JSON: the view's parser answers with its own 400
        for path, text in strings:
            problem = unstorable(text)
            if problem:
                raise invalid_field(path if not unstorable(path) else "_body", problem)


def init_app(app) -> None:
    # Larger bodies are refused with a 413 before they are read: no credential or secret is
    # anywhere near a megabyte.
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no limit
        app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.before_request(refuse_unstorable_text)
