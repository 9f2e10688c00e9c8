"""The Blueprint and Api every resource uses: flask-smorest's, made to tell the truth in OpenAPI.

Parsing: webargs answers 422 by default; the contract says a validation failure is a 400. A body
that is not JSON is said to be so (webargs would ignore a body of another Content-Type and report
every required field as missing, and answer invalid JSON with a bare "Invalid JSON body.").

The document: every operation gets a camelCase `operationId` and the problem+json responses it
can answer, all pointing at one `Problem` schema (`hub.api.problems.PROBLEM_SCHEMA`). Which ones
is worked out here, so that a new route conforms by being written on this Blueprint:

- 503 on every operation (every one asks the database, if only to authenticate);
- 401 and 403 unless the operation has `@blp.doc(security=[])` (no key: /healthz, callbacks);
  pass `without=(403,)` for an operation any valid key may call;
- 404 when the path has a parameter (a project, an id: "that you may not see or does not exist");
- 400 when it takes arguments (query or body), 413 when it takes a body;
- 409 and 429 (and anything else) only when the view says so: `@blp.operation("createThing",
  errors=(409,))`; 429 is for the operations that run a provider check in the request's pool.

So a new view is:

    @blp.route("/<thing_id>")
    class ThingItem(MethodView):
        @blp.operation("getThing")
        @blp.response(200, ThingSchema)
        def get(self, thing_id): ...

A view without `@blp.operation` still gets an operationId (`getThingItem`, from the method and
the MethodView's name) so the document stays valid, but name it: generated clients call methods
by it. A view that answers something other than problem+json for an error (an HTML page for a
browser, such as an OAuth callback) says so with `without=(400,)` and `@blp.alt_response`.
Success responses list every field that is always there as `required` (see
`hub.api.fields.always_present`). tests/test_openapi.py walks every operation and checks all of
this; tests/test_schemathesis.py fuzzes them.
"""
from __future__ import annotations

import http
import json
import re

import flask_smorest
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from hub.api.problems import PROBLEM_CONTENT_TYPE, PROBLEM_SCHEMA
from hub.errors import InvalidInput

_SEND_JSON = "Send a JSON object with 'Content-Type: application/json'."

# The problem responses the document uses, each a component named as flask-smorest names them
# (`BAD_REQUEST`...), so that its own references (the 400 of @blp.arguments) land on ours too.
PROBLEM_STATUSES = (400, 401, 403, 404, 409, 413, 429, 503)
_PROBLEM_DESCRIPTIONS = {
    400: "Invalid input: `errors` names each field and what is wrong with it.",
    401: "No API key, or one that is malformed, unknown, revoked or expired.",
    403: "The key lacks the permission this operation needs.",
    404: "It does not exist, or the key may not see it.",
    409: "It conflicts with the current state (a name taken, a version moved on, an inactive "
         "integration).",
    413: "The request body is larger than the hub accepts.",
    429: "Too many provider checks are running for this org; retry after `Retry-After` seconds.",
    503: "The hub cannot serve now (its database or keyring is unavailable); retry later.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.",
                                "schema": {"type": "integer", "minimum": 0}}}
_PATH_PARAMETER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


class ArgumentsParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def load_json(self, req, schema):
        if not core.is_json(req.mimetype) and req.get_data(cache=True):
            sent = f"sent as {req.mimetype}" if req.mimetype else "sent without a Content-Type"
            raise InvalidInput(f"The request body must be JSON; this one was {sent}. {_SEND_JSON}",
                               errors={"_body": ["Not JSON."]})
        return super().load_json(req, schema)

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # a body nested deeper than the JSON decoder goes
            abort(400, messages={"json": {"_body": ["Nested too deeply."]}})

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        if isinstance(error, UnicodeDecodeError) or error.msg.startswith("Bytes decoding error"):
            where = "it is not UTF-8"  # webargs reports undecodable bytes as a JSONDecodeError
        else:
            where = f"{error.msg} at line {error.lineno}, column {error.colno}"
        raise InvalidInput(f"The request body is not valid JSON ({where}). {_SEND_JSON}",
                           errors={"_body": ["Invalid JSON."]})


def problem_response_name(status: int) -> str:
    return http.HTTPStatus(status).name


class Api(flask_smorest.Api):
    """flask-smorest's Api with problem+json error responses and no `Error` schema."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # no catch-all `default`: each error is documented

    def _register_pagination_header(self):
        pass  # lists page by cursor in the body; flask-smorest's header schema would go unused

    def _init_spec(self, *args, **kwargs):
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(_storable_text)

    def register_blueprint(self, blp, *, parameters=None, **options):
        super().register_blueprint(blp, parameters=parameters, **options)
        self._only_inputs_say_no_nul()

    def _only_inputs_say_no_nul(self):
        """The no-NUL patterns are for what clients send; response schemas (never NUL either)
        read better without them. Schemas that requests use keep them."""
        schemas = self.spec.components.schemas
        paths = json.dumps(self.spec._paths)
        inputs = set()
        pending = re.findall(r'"requestBody".*?"\$ref": "#/components/schemas/([^"]+)"', paths)
        while pending:
            name = pending.pop()
            if name not in inputs and name in schemas:
                inputs.add(name)
                pending += re.findall(r'#/components/schemas/([^"]+)"', json.dumps(schemas[name]))
        for name, schema in schemas.items():
            if name not in inputs:
                _drop_storable_marks(schema)

    def _register_responses(self):
        self.spec.components.schema("Problem", PROBLEM_SCHEMA)
        for status in PROBLEM_STATUSES:
            response = {"description": _PROBLEM_DESCRIPTIONS[status], "content": {
                PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            if status == 429:
                response["headers"] = _RETRY_AFTER
            self.spec.components.response(problem_response_name(status), response, lazy=True)


# The input guard (hub/api/input_guard.py) refuses NUL in any string: no database stores it.
STORABLE_TEXT_PATTERN = "^[^\\u0000]*$"


# A free-form object's values are never a string holding NUL. (Nested values are the provider
# schema's to check; a recursive schema here would be truer, but generated clients cannot read
# a union-typed component.)
STORABLE_VALUE_SCHEMA = {"not": {"type": "string", "pattern": "\\u0000"}}


def _storable_text(converter, field, ret, **kwargs) -> dict:
    """A string field with no pattern of its own says that it holds no NUL; so does a free-form
    object. `metadata={"openapi": {...}}` is copied verbatim (apispec drops keywords it does not
    know, such as propertyNames)."""
    extra = dict(field.metadata.get("openapi", {}))
    if ret.get("type") in ("string", ["string", "null"]) and not (
            {"pattern", "enum", "format"} & (set(ret) | set(extra))):
        extra["pattern"] = STORABLE_TEXT_PATTERN
    if ret.get("type") in ("object", ["object", "null"]) and ret.get("additionalProperties") == {}:
        extra.setdefault("propertyNames", {"pattern": STORABLE_TEXT_PATTERN})
        extra.setdefault("additionalProperties", STORABLE_VALUE_SCHEMA)
    return extra


def _drop_storable_marks(node) -> None:
    if isinstance(node, dict):
        if node.get("pattern") == STORABLE_TEXT_PATTERN:
            del node["pattern"]
        if node.get("propertyNames") == {"pattern": STORABLE_TEXT_PATTERN}:
            del node["propertyNames"]
        if node.get("additionalProperties") == STORABLE_VALUE_SCHEMA:
            node["additionalProperties"] = {}
        for value in node.values():
            _drop_storable_marks(value)
    elif isinstance(node, list):
        for value in node:
            _drop_storable_marks(value)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ArgumentsParser()

    def arguments(self, schema, *args, **kwargs):
        # webargs builds a schema given as a class anew on every request (about 6% of the door's
        # time); one instance per route serves them all (schemas keep no per-request state).
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_problems_doc)

    @staticmethod
    def operation(operation_id: str, *, errors=(), without=(), links=None):
        """Name the operation and add the errors it answers beyond those worked out from its
        route and arguments (`errors=(409,)`), or drop some of those (`without=(403,)`).

        `links` ({operationId: {parameter: runtime expression}}) go on the success response, so
        that clients and fuzzers can chain create -> get -> update -> delete."""
        def decorator(func):
            apidoc = dict(getattr(func, "_apidoc", {}))
            apidoc["hub_operation"] = {"operationId": operation_id, "errors": tuple(errors),
                                       "without": tuple(without), "links": dict(links or {})}
            func._apidoc = apidoc
            return func
        return decorator

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None,
                     **options):
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)
        # What the doc callback needs and flask-smorest does not pass it: the route's parameters
        # and a name to fall back on for the operationId.
        docs = self._docs[self._endpoints[-1]]
        full_rule = (self.url_prefix or "") + rule
        for method, doc in docs.items():
            if method != "parameters":
                doc["hub_route"] = {"has_path_parameters": bool(_PATH_PARAMETER.search(full_rule)),
                                    "fallback_id": method + view_func.__name__}

    @staticmethod
    def _prepare_problems_doc(doc, doc_info, **kwargs):
        route = doc_info.get("hub_route", {})
        declared = doc_info.get("hub_operation", {})
        doc["operationId"] = declared.get("operationId") or route.get("fallback_id")
        public = doc_info.get("manual_doc", {}).get("security") == []
        arguments = doc_info.get("arguments", {})  # flask-smorest moved the body to requestBody
        takes_body = "requestBody" in arguments
        statuses = {503}
        if not public:
            statuses |= {401, 403}
        if route.get("has_path_parameters"):
            statuses.add(404)
        if arguments:
            statuses.add(400)
        if takes_body:
            statuses.add(413)
        statuses |= set(declared.get("errors", ()))
        statuses -= set(declared.get("without", ()))
        responses = doc.setdefault("responses", {})
        for status in declared.get("without", ()):  # @blp.arguments put its own 400 there
            responses.pop(status, None)
            responses.pop(str(status), None)
        for status in sorted(statuses):
            responses[status] = problem_response_name(status)
        links = declared.get("links")
        if links:
            success = next(r for s, r in responses.items() if 200 <= int(s) < 300)
            success["links"] = {
                target[0].upper() + target[1:]: {"operationId": target, "parameters": parameters}
                for target, parameters in links.items()}
        return doc


class SegmentConverter(BaseConverter):
    """The hub's default path variable: one segment with no ':' in it, since ':' starts a custom
    method (`x:verifyConfig` is no integration id, and GET on it is a 405 with a true Allow)."""

    regex = r"[^/:]+"

    @staticmethod
    def openapi(converter):
        return {"type": "string", "pattern": "^[^/:]+$"}


class ItemConverter(SegmentConverter):
    """`<item:id>`: a segment that is not a fixed word of a sibling route, so that GET
    `.../integrations/copy` is a 405 (copy is POST) rather than "no integration 'copy'"."""

    FIXED_WORDS = ("copy", "credentials")
    regex = r"(?!(?:%s)(?![^/]))[^/:]+" % "|".join(FIXED_WORDS)

    @staticmethod
    def openapi(converter):
        return {"type": "string", "pattern": "^(?!(?:%s)$)[^/:]+$" % "|".join(ItemConverter.FIXED_WORDS)}


def init_converters(app, api) -> None:
    """Before any route is added: every `<name>` is a SegmentConverter, `<item:name>` an item."""
    app.url_map.converters["default"] = SegmentConverter
    app.url_map.converters["item"] = ItemConverter
    api.register_converter(SegmentConverter, SegmentConverter.openapi)
    api.register_converter(ItemConverter, ItemConverter.openapi)
