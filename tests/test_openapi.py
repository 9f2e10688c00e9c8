"""The OpenAPI document tells the truth: every operation named, its errors documented as
problem+json with one Problem schema, and the patterns the server enforces (and only those).

A new route conforms by being written on hub.api.blueprint.Blueprint (see its docstring); the
walk below covers every operation the app has, including ones added later."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

ROOT = Path(__file__).resolve().parents[1]
REDOCLY = ROOT / ".tools" / "redocly" / "node_modules" / ".bin" / "redocly"
CAMEL = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)*")
METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM_REF = "#/components/schemas/Problem"


def _spec(hub) -> dict:
    resp = hub.client.get("/openapi.json")
    assert resp.status_code == 200
    return resp.json


def _operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _resolve(spec, obj):
    while "$ref" in obj:
        node = spec
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


# Operations a browser reaches (the OAuth callback): their pages are HTML, their outages problems.
BROWSER_PAGES = {"oauthCallback"}


def test_every_operation_is_named_and_documents_its_problems(hub):
    spec = _spec(hub)
    assert spec["openapi"].startswith("3.1.")
    assert spec["servers"] and spec["info"]["license"]
    ids = []
    for path, method, op in _operations(spec):
        where = f"{method.upper()} {path}"
        ids.append(op.get("operationId"))
        assert op.get("operationId") and CAMEL.fullmatch(op["operationId"]), where
        statuses = set(op["responses"])
        public = op.get("security") == []
        assert "503" in statuses, where  # every operation asks the database
        if not public:
            assert "401" in statuses, where  # 403 too, but for the reads any valid key may call
        params = [p for p in spec["paths"][path].get("parameters", []) if p["in"] == "path"]
        if params:
            assert "404" in statuses, where
        if "requestBody" in op:
            assert {"400", "413"} <= statuses, where
        assert "default" not in statuses, where
        for status, response in op["responses"].items():
            response = _resolve(spec, response)
            if op["operationId"] in BROWSER_PAGES and status in (
                    "200", "303", "400", "403", "409", "429", "502"):
                # a person's browser lands here: a short HTML page (or the redirect), by contract
                assert set(response.get("content", {})) <= {"text/html", "application/problem+json"}, (
                    where, status)
                continue
            if int(status) >= 400:
                assert set(response["content"]) == {"application/problem+json"}, (where, status)
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": PROBLEM_REF}, (where, status)
            elif int(status) != 204:
                assert set(response["content"]) == {"application/json"}, (where, status)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    by_id = {op["operationId"]: (path, op) for path, _, op in _operations(spec)}
    # The names the contract gives, and the errors that only the views know.
    for name in ("createIntegration", "verifyIntegration", "resolveSecrets"):
        assert name in by_id
    for name in ("verifyIntegration", "verifyOrgIntegration", "verifyProviderConfig",
                 "createIntegration", "createOrgIntegration"):
        assert "429" in by_id[name][1]["responses"], name
        assert "Retry-After" in _resolve(spec, by_id[name][1]["responses"]["429"])["headers"]
    for name in ("createProject", "createApiKey", "createIntegration", "copyIntegration",
                 "createSecret", "updateSecret", "getIntegrationCredentials"):
        assert "409" in by_id[name][1]["responses"], name
    # An optional body is not a required one.
    for name in ("verifyIntegration", "verifyOrgIntegration"):
        assert by_id[name][1]["requestBody"].get("required") is False
    health = spec["paths"]["/healthz"]["get"]
    assert {"200", "503"} == set(health["responses"]) and health["security"] == []


def test_schemas_say_what_is_always_there_and_what_may_be_null(hub):
    spec = _spec(hub)
    schemas = spec["components"]["schemas"]
    assert "Error" not in schemas and "PaginationMetadata" not in schemas
    problem = schemas["Problem"]
    assert problem["properties"]["status"]["type"] == "integer"
    assert problem["additionalProperties"] is True  # extension members (request_id, errors...)
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    text = json.dumps(spec)
    assert '"nullable"' not in text  # 3.1: null is a type
    assert schemas["Integration"]["properties"]["last_verification"] == {
        "anyOf": [{"$ref": "#/components/schemas/VerificationResult"}, {"type": "null"}]}
    # Every field of every response schema is required (always present), but for the few that
    # the record has only sometimes; walked from the operations, so new routes are covered too.
    sometimes = {"Integration": {"is_global", "projects", "shared"},
                 "VerificationError": {"retry_after"}}
    seen = set()

    def walk(ref):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        schema = schemas[name]
        optional = set(schema.get("properties", {})) - set(schema.get("required", []))
        assert optional <= sometimes.get(name, set()), (name, optional)
        for ref in re.findall(r'"\$ref": "(#/components/schemas/[^"]+)"', json.dumps(schema)):
            walk(ref)

    for path, method, op in _operations(spec):
        for status, response in op["responses"].items():
            if status.startswith("2") and "application/json" in _resolve(spec, response).get(
                    "content", {}):
                ref = _resolve(spec, response)["content"]["application/json"]["schema"]["$ref"]
                walk(ref)
    assert {"Integration", "VerificationResult", "Project", "SecretWritten", "Health"} <= seen
    # Request bodies hold no read-only fields (those are in the response schemas only).
    for path, method, op in _operations(spec):
        if "requestBody" in op:
            body = _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
            assert not [n for n, p in body.get("properties", {}).items() if p.get("readOnly")], path


def test_problem_bodies_match_the_problem_schema(hub):
    spec = _spec(hub)
    problem = {**spec["components"]["schemas"]["Problem"], "$schema":
               "https://json-schema.org/draft/2020-12/schema"}
    answers = [
        hub.call("GET", "/v1/projects", key=None),
        hub.call("GET", "/v1/projects/payments/integrations/nope"),
        hub.call("POST", "/v1/projects", json={"handle": "payments"}),
        hub.call("POST", "/v1/projects", json={"handle": "Not a handle"}),
    ]
    assert [a.status_code for a in answers] == [401, 404, 409, 400]
    for answer in answers:
        assert answer.headers["Content-Type"] == "application/problem+json"
        jsonschema.validate(answer.json, problem)


def test_document_is_valid_openapi_3_1(hub):
    validate_openapi(_spec(hub))  # raises on any error


def test_redocly_lints_the_document_without_errors(hub, tmp_path):
    # scripts/test installs Redocly CLI into .tools/ (pinned); without it this test cannot run.
    assert REDOCLY.exists(), ("Redocly CLI is not installed in .tools/redocly: run scripts/test, "
                              "which installs it with npm")
    assert shutil.which("node"), "Redocly CLI needs node"
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(_spec(hub)))
    result = subprocess.run([str(REDOCLY), "lint", "--format", "json", str(document)],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "REDOCLY_TELEMETRY": "off",
                                 "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"})
    report = json.loads(result.stdout[result.stdout.index("{"):])
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert not errors, json.dumps(errors, indent=1)[:4000]
    assert result.returncode == 0, result.stderr[-2000:]


# Red team 7: `$` in a pattern accepts a trailing newline; the server matches whole values.
@pytest.mark.parametrize("path, body, field", [
    ("/v1/projects", {"handle": "web\n"}, "handle"),
    ("/v1/projects/payments/integrations", {"name": "nl\n", "provider": "slack",
                                            "credentials": {"token": "xoxb-1"}}, "name"),
    ("/v1/projects/payments/integrations", {"name": "gh", "provider": "github",
                                            "credentials": {"token": "ghp_x"},
                                            "config": {"org": "acme\n"}}, "config.org"),
    ("/v1/projects/payments/integrations", {
        "name": "j", "provider": "jira", "credentials": {
            "base_url": "https://acme.atlassian.net", "username": "u", "api_token": "t"},
        "config": {"project_key": "PROJ\n"}}, "config.project_key"),
    ("/v1/projects/payments/secrets", {"name": "db\n", "values": {"k": "v"}}, "name"),
])
def test_a_trailing_newline_does_not_match_a_pattern(hub, path, body, field):
    resp = hub.call("POST", path, json=body)
    assert resp.status_code == 400, resp.json
    assert any(name == field or name.endswith(field) for name in resp.json["errors"]), resp.json


def test_trailing_newline_in_a_project_handle_is_not_that_project(hub):
    assert hub.call("GET", "/v1/projects/payments%0A").status_code == 404


# Red team 10: fixed words and custom methods are not ids; OPTIONS is not HTML.
def test_sibling_words_and_custom_methods_are_not_ids(hub):
    for method, path, allow in [
        ("GET", "/v1/projects/payments/integrations/copy", {"POST"}),
        ("DELETE", "/v1/projects/payments/integrations/copy", {"POST"}),
        ("GET", "/v1/projects/payments/integrations/x:verifyConfig", {"POST"}),
        ("PUT", "/v1/integrations/credentials", {"GET", "HEAD"}),
        ("GET", "/v1/integrations/x:verifyConfig", {"POST"}),
        ("GET", "/v1/providers/slack:verifyConfig", {"POST"}),
    ]:
        resp = hub.call(method, path)
        assert resp.status_code == 405, (method, path, resp.status_code)
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert set(resp.headers["Allow"].replace(" ", "").split(",")) - {"OPTIONS"} == allow


def test_options_is_an_empty_204_with_allow(hub):
    resp = hub.call("OPTIONS", "/v1/projects", key=None)
    assert resp.status_code == 204 and resp.get_data() == b""
    assert "text/html" not in resp.headers.get("Content-Type", "")
    assert {"GET", "POST"} <= set(resp.headers["Allow"].replace(" ", "").split(","))
    missing = hub.call("OPTIONS", "/v1/nothing-here", key=None)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"


def test_docs_render_the_3_1_document(hub):
    docs = hub.client.get("/docs")
    assert docs.status_code == 200 and b"/openapi.json" in docs.data
    redoc = hub.client.get("/redoc")
    assert redoc.status_code == 200 and b"/openapi.json" in redoc.data
    # The bundled Swagger UI is 5.x, which renders 3.1 documents (4.x refuses "openapi: 3.1.0");
    # ReDoc 2.x reads them too.
    with hub.client.get("/_assets/swagger-ui/swagger-ui-bundle.js") as bundle:
        assert "isOAS31" in bundle.get_data(as_text=True)
    for asset in ("swagger-ui.css", "swagger-ui-standalone-preset.js"):
        with hub.client.get(f"/_assets/swagger-ui/{asset}") as served_asset:
            assert served_asset.status_code == 200, asset


def test_a_new_route_conforms_by_being_on_the_blueprint():
    # What the OAuth routes (or any later ones) get without asking: a name, the problems their
    # route and arguments imply, Problem responses; and what they declare is added.
    import marshmallow as ma
    from flask import Flask
    from flask.views import MethodView

    from hub.api.blueprint import Api, Blueprint, init_converters

    app = Flask("probe")
    app.config.update(API_TITLE="probe", API_VERSION="v1", OPENAPI_VERSION="3.1.0")
    api = Api(app)
    init_converters(app, api)
    blp = Blueprint("things", "things", url_prefix="/v1/things")

    class ThingSchema(ma.Schema):
        name = ma.fields.String(required=True)

    @blp.route("/<thing_id>")
    class ThingItem(MethodView):
        @blp.response(200, ThingSchema)
        def get(self, thing_id):
            return {"name": thing_id}

        @blp.operation("renameThing", errors=(409,), links={"getThingItem": {
            "thing_id": "$response.body#/name"}})
        @blp.arguments(ThingSchema)
        @blp.response(200, ThingSchema)
        def put(self, body, thing_id):
            return body

    @blp.route("/callback")
    @blp.doc(security=[])
    @blp.operation("thingCallback", without=(400,))
    @blp.arguments(ThingSchema, location="query")
    def callback(args):
        return ""

    api.register_blueprint(blp)
    spec = api.spec.to_dict()
    item = spec["paths"]["/v1/things/{thing_id}"]
    assert item["get"]["operationId"] == "getThingItem"
    assert set(item["get"]["responses"]) == {"200", "401", "403", "404", "503"}
    assert item["put"]["operationId"] == "renameThing"
    assert set(item["put"]["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "503"}
    assert item["put"]["responses"]["200"]["links"]["GetThingItem"]["operationId"] == "getThingItem"
    assert item["put"]["responses"]["409"] == {"$ref": "#/components/responses/CONFLICT"}
    assert spec["components"]["responses"]["CONFLICT"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    callback_op = spec["paths"]["/v1/things/callback"]["get"]
    assert set(callback_op["responses"]) == {"503"}  # no key, and its 400 is not problem+json
    assert "Error" not in spec["components"].get("schemas", {})
    assert app.test_client().get("/v1/things/callback?name=x").status_code == 200  # no item
    assert app.test_client().get("/v1/things/a:b").status_code == 404  # ':' is no id
