"""The REST API: flask-smorest blueprints, OpenAPI, problem+json errors, request ids.

Owns HTTP: parsing requests, calling the domain, shaping responses, and mapping domain errors to
problem+json in one place (`problems`). Views stay short: parse, call the domain, return. May
import every domain package and `hub.services`; never `hub.cli`. Resources register in one ordered
list; each module holds a Blueprint whose view docstrings become the OpenAPI summaries.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path

from flask import g, request, send_from_directory

from hub.api import (
    access_log,
    api_keys,
    audit,
    blueprint,
    credentials,
    health,
    input_guard,
    integrations,
    metrics,
    oauth_apps,
    oauth_connect,
    org_integrations,
    problems,
    projects,
    providers,
    secrets,
)
from hub.api.blueprint import Api
from hub.oauth.apps import oauth_method
from hub.verification.pool import pool_from_settings

RESOURCES = [health.blp, projects.blp, api_keys.blp, providers.blp, integrations.blp,
             org_integrations.blp, credentials.blp, secrets.blp, audit.blp, oauth_apps.blp,
             oauth_connect.blp]

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _swagger_ui_dir() -> Path:
    # Swagger UI 5 (the first to render OpenAPI 3.1), as flask-openapi3-swagger packages it.
    import flask_openapi3_swagger

    return Path(flask_openapi3_swagger.__file__).parent / "templates" / "swagger"


def _redoc_dir() -> Path:
    import flask_openapi3_redoc

    return Path(flask_openapi3_redoc.__file__).parent / "templates" / "redoc" / "js"


def _configure_openapi(app) -> None:
    app.config.setdefault("API_TITLE", "hub")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    app.config.setdefault("OPENAPI_REDOC_PATH", "redoc")
    # Hubs often run with no internet: the UIs' assets come from installed packages.
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", "/_assets/swagger-ui/")
    app.config.setdefault("OPENAPI_REDOC_URL", "/_assets/redoc/redoc.standalone.js")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "components": {"securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer", "bearerFormat": "hub_sk_...",
            "description": "An API key secret, shown once when the key is made."}}},
        "security": [{"bearerAuth": []}],
        # Relative: the document is served by the hub it describes, wherever that is.
        "servers": [{"url": "/", "description": "The hub serving this document."}],
        "info": {"description": "Keeps third-party credentials encrypted and verified. "
                                "Errors are RFC 9457 problem+json (`Problem`).",
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
    })


def _register_assets(app) -> None:
    @app.route("/_assets/swagger-ui/<path:filename>")
    def swagger_ui_asset(filename):
        kind = "css" if filename.endswith(".css") else "js"
        return send_from_directory(_swagger_ui_dir() / kind, filename)

    @app.route("/_assets/redoc/<path:filename>")
    def redoc_asset(filename):
        return send_from_directory(_redoc_dir(), filename)


def init_request_ids(app) -> None:
    """Request ids, and the access log line that carries them (registered first, so even a
    request the database fails has both)."""
    access_log.init_app(app)

    @app.before_request
    def _take_request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        return response


def _document_loaded_providers(api, registry) -> None:
    """`provider` and `auth_type` in the create bodies are enums of what this hub has loaded (the
    schemas are classes; the providers come from plugins)."""
    names = registry.names()
    if not names:
        return
    methods = sorted({method.id for name in names for method in registry.get(name).auth_methods})
    schemas = api.spec.components.schemas
    for schema_name in ("IntegrationCreate", "OrgIntegrationCreate", "DryRun"):
        properties = schemas[schema_name]["properties"]
        if "provider" in properties:
            properties["provider"] = {**properties["provider"], "enum": names}
        properties["auth_type"] = {**properties["auth_type"], "enum": methods}
        for name in ("provider", "auth_type"):
            properties.get(name, {}).pop("pattern", None)
    oauth_names = [name for name in names if oauth_method(registry.get(name)) is not None]
    for schema_name in ("OAuthAppCreate", "OAuthAppUpdate", "Connect"):
        if oauth_names and schema_name in schemas:
            properties = schemas[schema_name]["properties"]
            properties["provider"] = {**properties["provider"], "enum": oauth_names}
            properties["provider"].pop("pattern", None)


def _answer_options_plainly(app) -> None:
    """Flask answers OPTIONS with an empty text/html 200; a JSON API says 204 and the Allow."""
    @app.after_request
    def _options_no_content(response):
        if request.method == "OPTIONS" and response.status_code == 200 and not response.get_data():
            response.status_code = 204
            response.headers.pop("Content-Type", None)
        return response


def init_app(app) -> None:
    _configure_openapi(app)
    input_guard.init_app(app)
    api = Api(app)
    blueprint.init_converters(app, api)
    # flask-smorest registers its own JSON error handler; ours (problem+json) replaces it.
    problems.init_app(app)
    _register_assets(app)
    for resource in RESOURCES:
        api.register_blueprint(resource)
    _document_loaded_providers(api, app.extensions["hub.providers"])
    _answer_options_plainly(app)
    app.extensions["hub.api"] = api
    app.extensions["hub.check_pool"] = pool_from_settings(app.config, app.extensions["hub.db"])
    metrics.init_app(app)  # GET /metrics when HUB_METRICS is on
