"""What every response carries, whatever view or error handler made it.

- `X-Content-Type-Options: nosniff` everywhere: a browser never reads a JSON answer (which may
  echo what a caller or a provider sent) as HTML or script.
- `Cache-Control: no-store` on every `/v1` answer: they are per-key data, and some hold what is
  shown once (a new key's secret, a resolved template, a door's credentials); no proxy or browser
  may keep a copy. A view that sets its own Cache-Control keeps it.
- JSON with `<`, `>` and `&` written as `\\u003c`, `\\u003e`, `\\u0026`: the same JSON to every
  parser, but a provider's answer (a team name, an error text) that holds markup is never
  reflected as markup, even where JSON is pasted into a page.
"""
from __future__ import annotations

from flask import request
from flask.json.provider import DefaultJSONProvider

_MARKUP = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


class MarkupSafeJSON(DefaultJSONProvider):
    def dumps(self, obj, **kwargs) -> str:
        # Outside strings JSON has no <, > or &, so every one replaced here is inside a string.
        return super().dumps(obj, **kwargs).translate(_MARKUP)


def _is_api(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


def set_headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    if _is_api(request.path) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:
    app.json = MarkupSafeJSON(app)
    app.after_request(set_headers)
