"""Connecting integrations by OAuth consent (hub/oauth/ does the work): start a connection, the
provider's callback, and a forced refresh.

The callback is opened by a person's browser, sent there by the provider: it carries no API key
(the single-use state is the capability) and answers with a redirect or a short HTML page, never
JSON. It sends no Referer onward (its URL held the code) and is never cached.
"""
import html

import marshmallow as ma
from flask import current_app, g, make_response, redirect
from flask.views import MethodView

from hub import settings
from hub.api import context, problems
from hub.api.blueprint import Blueprint
from hub.api.fields import Timestamp, always_present
from hub.api.integrations import IntegrationSchema
from hub.api.oauth_apps import HOST_PATTERN, SCOPE_PATTERN
from hub.errors import HubError
from hub.integrations import records
from hub.integrations.validation import NAME_RE
from hub.oauth import connect, refresh
from hub.sdk import FullMatch

blp = Blueprint("oauth_connect", __name__,
                description="Connecting integrations by OAuth consent, and refreshing their "
                            "tokens.")


_NAME = FullMatch(NAME_RE, error="Use 1-100 letters, digits, '_' or '-'.")


class ConnectSchema(ma.Schema):
    provider = ma.fields.String(required=True, metadata={
        "description": "A provider that declares OAuth."})
    name = ma.fields.String(required=True, validate=_NAME, metadata={
        "description": "The integration's name; (provider, name) must be free in the project."})
    oauth_app = ma.fields.String(required=True, validate=_NAME,
                                 metadata={"description": "The OAuth app's id or name."})
    scopes = ma.fields.List(ma.fields.String(validate=FullMatch(
        SCOPE_PATTERN, error="A scope is 1-200 characters without spaces or commas.")),
        validate=ma.validate.Length(max=100), metadata={
        "description": "Scopes to ask for (default: the app's, else the provider's)."})
    return_to = ma.fields.String(validate=[ma.validate.Length(max=2048), FullMatch(
        rf"^https?://{HOST_PATTERN}([/?#]\S*)?$", error="Give an http(s) URL.")], metadata={
        "description": "Where the person is sent afterwards (with ?integration_id=) when its "
                       "origin is one of the app's redirect_origins."})


@always_present()
class ConnectResultSchema(ma.Schema):
    authorize_url = ma.fields.String(required=True, metadata={
        "description": "Open this in the person's browser to consent."})
    state = ma.fields.String(required=True, metadata={"description": "Single use, 10 minutes."})
    expires_at = Timestamp(required=True)


class CallbackArgs(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # providers add their own parameters (Slack, Atlassian)

    code = ma.fields.String(validate=ma.validate.Length(max=4096))
    state = ma.fields.String(validate=ma.validate.Length(max=512))
    error = ma.fields.String(validate=ma.validate.Length(max=256))
    error_description = ma.fields.String(validate=ma.validate.Length(max=2048))


@blp.route("/v1/projects/<project>/integrations:connect")
class Connect(MethodView):
    @blp.operation("connectIntegration", errors=(409,))
    @blp.arguments(ConnectSchema)
    @blp.response(201, ConnectResultSchema)
    def post(self, body, project):
        """Start connecting an integration by OAuth consent (integrations:write): the URL to open,
        with a single-use state and a PKCE challenge."""
        return connect.start(context.integration_services(), context.principal(), project, body,
                             public_url=settings.public_url(current_app.config))


@blp.route("/v1/oauth/callback")
class Callback(MethodView):
    @blp.operation("oauthCallback", without=(400,))
    @blp.doc(security=[], responses={
        "200": {"description": "Connected: a short HTML page.",
                "content": {"text/html": {"schema": {"type": "string"}}}},
        "303": {"description": "Connected: to return_to with ?integration_id=."},
        "400": {"description": "Nothing was connected (a used, expired or unknown state, or "
                               "consent refused): a short HTML page saying why; a query that "
                               "no page could echo (NUL, text no database stores) is a problem.",
                "content": {"text/html": {"schema": {"type": "string"}},
                            "application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"}}}},
        "403": {"description": "Nothing was connected: the API key that started the connection "
                               "may no longer write integrations in its project; a short HTML "
                               "page.", "content": {"text/html": {"schema": {"type": "string"}}}},
        "409": {"description": "Nothing was connected: the name was taken meanwhile by an "
                               "integration that is not an OAuth connection; a short HTML page.",
                "content": {"text/html": {"schema": {"type": "string"}}}},
        "429": {"description": "Nothing was connected: the org's checks are all busy; a short "
                               "HTML page saying to start again.",
                "content": {"text/html": {"schema": {"type": "string"}}}},
        "502": {"description": "Nothing was connected: the provider's token endpoint could not be "
                               "reached or failed; a short HTML page saying so.",
                "content": {"text/html": {"schema": {"type": "string"}}}}})
    @blp.arguments(CallbackArgs, location="query")
    def get(self, args):
        """Where the provider sends the person back (no API key: the state is the capability)."""
        try:
            finished = connect.finish(
                context.integration_services(), state=args.get("state"), code=args.get("code"),
                error=args.get("error"), public_url=settings.public_url(current_app.config),
                request_id=g.get("request_id"), client_ip=context.client_ip())
        except connect.CallbackRefused as refused:
            return _page(refused.status, "Not connected", refused.reason)
        except HubError as error:  # a person reads this page: HTML, not problem+json
            status = next((code for cls, code in problems.STATUS.items()
                           if isinstance(error, cls)), 500)
            if status >= 500:
                raise
            return _page(status, "Not connected", error.detail)
        if finished.redirect_to:
            response = redirect(finished.redirect_to, 303)
            return _private(response)
        return _page(200, "Connected", f"The {finished.provider} integration '{finished.name}' "
                                       f"is connected in project '{finished.project}'. You can "
                                       "close this page.")


@blp.route("/v1/projects/<project>/integrations/<item:integration_id>:refresh")
class Refresh(MethodView):
    @blp.operation("refreshIntegration", errors=(409,))
    @blp.response(200, IntegrationSchema)
    def post(self, project, integration_id):
        """Refresh an OAuth integration's tokens now (integrations:write); 409 "Credentials
        expired" when the provider refuses (connect it again)."""
        found, row = refresh.refresh_one(context.integration_services(), context.principal(),
                                         project, integration_id)
        return records.to_record(row, found.handle, context.providers().get(row.provider))


def _page(status: int, title: str, message: str):
    body = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>{0}</title></head>"
            "<body><h1>{0}</h1><p>{1}</p></body></html>").format(html.escape(title),
                                                                 html.escape(message))
    response = make_response(body, status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return _private(response)


def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response



