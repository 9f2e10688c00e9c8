"""Every error leaves the hub as RFC 9457 problem+json, mapped here in one place.

The database failing anywhere in a request (gone away, refusing connections, a connection that
died under the request, a full pool) is a 503 like any `DatabaseUnavailable`, never a 500: what
the driver said goes to the log, and a connection it left dead is dropped, not pooled again."""
from __future__ import annotations

import logging

from flask import current_app, g, request
from werkzeug.exceptions import HTTPException

from hub import errors
from hub.errors import flatten_messages
from hub.storage import database

log = logging.getLogger("hub.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"

# What `problem()` sends, as the OpenAPI document's one `Problem` schema (JSON Schema 2020-12).
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem detail. Extension members may follow.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "A URN naming the kind of problem.",
                 "examples": ["urn:hub:problem:not-found"]},
        "title": {"type": "string", "description": "A short summary of the kind of problem."},
        "status": {"type": "integer", "minimum": 100, "maximum": 599,
                   "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong with this request."},
        "instance": {"type": "string", "description": "The request's path."},
        "request_id": {"type": ["string", "null"],
                       "description": "The request's X-Request-ID, to quote to the operator."},
        "errors": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "string"}},
            "description": "For invalid input: each field's path and what is wrong with it."},
    },
    "additionalProperties": True,
}

STATUS = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
    errors.Corrupted: 500,
}


def problem(status: int, title: str, detail: str, *, slug: str | None = None,
            field_errors: dict | None = None, headers: dict | None = None, extra: dict | None = None):
    body = {
        "type": f"urn:hub:problem:{slug or title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": g.get("request_id"),
    }
    if field_errors:
        body["errors"] = field_errors
    for name, value in (extra or {}).items():
        body.setdefault(name, value)  # extension members never overwrite the standard ones
    response_headers = {"Content-Type": PROBLEM_CONTENT_TYPE}
    response_headers.update(headers or {})
    return body, status, response_headers


def _webargs_field_errors(messages: dict) -> dict[str, list[str]]:
    # webargs nests by location ({"json": {...}, "query": {...}}); field names are what people read.
    flat: dict[str, list[str]] = {}
    for location_messages in messages.values():
        flat.update(flatten_messages(location_messages))
    return flat


def handle_http_exception(error: HTTPException):
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages:
        field_errors = _webargs_field_errors(messages)
        fields = ", ".join(sorted(field_errors))
        return problem(400, "Invalid input", f"The request has invalid fields: {fields}.",
                       field_errors=field_errors)
    title = error.name
    detail = error.description or title
    if error.code == 404:
        detail = f"There is no route {request.method} {request.path}. See /docs for the API."
    elif error.code == 405:
        detail = f"{request.method} is not allowed on {request.path}."
    elif error.code == 400:
        title = "Invalid input"
    headers = {}
    if error.code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(error.code or 500, title, detail, headers=headers)


def handle_hub_error(error: errors.HubError):
    if isinstance(error, errors.SetupError):
        # The operator's detail (settings, paths, what to do) goes to the log; callers learn only
        # that the hub cannot serve right now, and the request id to quote.
        log.error("cannot serve %s %s (request %s): %s", request.method, request.path,
                  g.get("request_id"), error.detail)
        return problem(503, error.title, error.public_detail)
    status = next((code for cls, code in STATUS.items() if isinstance(error, cls)), 500)
    headers = {"WWW-Authenticate": 'Bearer realm="hub"'} if status == 401 else None
    if isinstance(error, errors.RateLimited):
        headers = {"Retry-After": str(error.retry_after)}  # whole seconds (RFC 9110)
    return problem(status, error.title, error.detail, field_errors=error.errors, headers=headers,
                   extra=error.extra)


def handle_database_error(error: Exception):
    db = current_app.extensions.get("hub.db")
    if db is not None:
        database.discard_broken(db)
    return handle_hub_error(database.unavailable(error, db))


def handle_unexpected(error: Exception):
    # The traceback goes to the log with the request id; the caller gets the id, nothing more.
    log.exception("unhandled error on %s %s (request %s)", request.method, request.path,
                  g.get("request_id"))
    return problem(500, "Internal error",
                   "The hub failed to handle this request. Report the request_id to the operator; "
                   "the server log has the details.")


def init_app(app) -> None:
    app.register_error_handler(errors.HubError, handle_hub_error)
    for driver_error in database.DATABASE_ERRORS:
        app.register_error_handler(driver_error, handle_database_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
