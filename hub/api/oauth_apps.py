"""OAuth apps (hub/oauth/apps.py does the work): the org's client registrations at OAuth
providers. The client secret is write-only: sealed, never returned."""
import marshmallow as ma
from flask import request
from flask.views import MethodView

from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import PageArgs, Timestamp, always_present, page_schema
from hub.errors import InvalidInput
from hub.integrations.validation import NAME_RE
from hub.oauth import apps
from hub.sdk import FullMatch
from hub.storage.pagination import paginate

blp = Blueprint("oauth_apps", __name__, url_prefix="/v1/oauth-apps",
                description="OAuth apps: the org's client registrations, used to connect "
                            "integrations by consent. The client secret is never returned.")

# A host name or IPv4 address and a port that origin_of() can parse (the server also takes
# bracketed IPv6 literals, which no pattern here could check as it does).
HOST_PATTERN = (r"([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
         r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?")
URL_PATTERN = rf"^https?://{HOST_PATTERN}(/[^\s?#]*)?$"
ORIGIN_PATTERN = rf"^https?://{HOST_PATTERN}/?$"
# RFC 6749's scope-token (printable ASCII but space, the double quote and the backslash),
# without ',' (Slack's separator).
SCOPE_PATTERN = r"^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]{1,200}$"
_URL = {"validate": [ma.validate.Length(min=1, max=2048), FullMatch(
    URL_PATTERN, error="Give an http(s) URL.")], "allow_none": True}
_NAME = FullMatch(NAME_RE, error="Use 1-100 letters, digits, '_' or '-'.")
_ORIGIN = FullMatch(ORIGIN_PATTERN, error="Give an origin: scheme://host[:port].")
_SCOPE = FullMatch(SCOPE_PATTERN, error="A scope is 1-200 characters without spaces or commas.")
_URL_DOC = " Overrides the provider's default (GitHub Enterprise, self-hosted servers, tests)."


class OAuthAppUpdateSchema(ma.Schema):
    """Each field given replaces that field whole; omitted fields stay as they are."""

    provider = ma.fields.String(metadata={"description": "Immutable: must equal the stored one."})
    name = ma.fields.String(validate=_NAME, metadata={
        "description": "Unique per provider in the org; 1-100 letters, digits, '_' or '-'."})
    client_id = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    client_secret = ma.fields.String(load_only=True, validate=ma.validate.Length(min=1, max=1024),
                                     metadata={"writeOnly": True, "description": (
                                         "Sealed, never returned. Required again to change "
                                         "client_id or token_url.")})
    scopes = ma.fields.List(ma.fields.String(validate=_SCOPE), allow_none=True,
                            validate=ma.validate.Length(max=apps.MAX_SCOPES), metadata={
                                "description": "Asked for by default (null: the provider's)."})
    redirect_origins = ma.fields.List(ma.fields.String(validate=[ma.validate.Length(max=2048),
                                                                 _ORIGIN]),
                                      validate=ma.validate.Length(max=20), metadata={
                                          "description": "Origins (scheme://host[:port]) that a "
                                                         "connection's return_to may go to."})
    authorize_url = ma.fields.String(**_URL, metadata={
        "description": "Authorization endpoint." + _URL_DOC})
    token_url = ma.fields.String(**_URL, metadata={"description": "Token endpoint." + _URL_DOC})
    api_base_url = ma.fields.String(**_URL, metadata={
        "description": "The provider's API." + _URL_DOC})


class OAuthAppCreateSchema(OAuthAppUpdateSchema):
    provider = ma.fields.String(required=True, metadata={
        "description": "A provider that declares OAuth."})
    name = ma.fields.String(required=True, validate=_NAME)
    client_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    client_secret = ma.fields.String(required=True, load_only=True,
                                     validate=ma.validate.Length(min=1, max=1024),
                                     metadata={"writeOnly": True,
                                               "description": "Sealed, never returned."})


@always_present()
class OAuthAppSchema(ma.Schema):
    id = ma.fields.String(required=True)
    provider = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    client_id = ma.fields.String(required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True, allow_none=True)
    redirect_origins = ma.fields.List(ma.fields.String(), required=True)
    authorize_url = ma.fields.String(required=True, allow_none=True)
    token_url = ma.fields.String(required=True, allow_none=True)
    api_base_url = ma.fields.String(required=True, allow_none=True)
    created_at = Timestamp(required=True)
    updated_at = Timestamp(required=True)


class OAuthAppListArgs(PageArgs):
    provider = ma.fields.String()


@blp.route("")
class OAuthApps(MethodView):
    @blp.operation("createOauthApp", errors=(409,), links={
        "getOauthApp": {"app_id": "$response.body#/id"},
        "updateOauthApp": {"app_id": "$response.body#/id"},
        "deleteOauthApp": {"app_id": "$response.body#/id"}})
    @blp.arguments(OAuthAppCreateSchema)
    @blp.response(201, OAuthAppSchema)
    def post(self, body):
        """Register an OAuth app (integrations:write, with a key that reaches every project)."""
        return apps.to_record(apps.create(context.keyring(), context.providers(),
                                          context.principal(), body))

    @blp.operation("listOauthApps")
    @blp.arguments(OAuthAppListArgs, location="query")
    @blp.response(200, page_schema(OAuthAppSchema, "OAuthAppPage"))
    def get(self, args):
        """The org's OAuth apps (integrations:read); no secrets."""
        page = paginate(apps.list_query(context.principal(), args.get("provider")),
                        apps.OAuthApp.id, limit=args["limit"], cursor=args["cursor"])
        page.items = [apps.to_record(app) for app in page.items]
        return page


@blp.route("/<item:app_id>")
class OAuthAppItem(MethodView):
    @blp.operation("getOauthApp")
    @blp.response(200, OAuthAppSchema)
    def get(self, app_id):
        """One OAuth app (integrations:read); no secret."""
        return apps.to_record(apps.get(context.principal(), app_id))

    @blp.operation("updateOauthApp", errors=(409,))
    @blp.arguments(OAuthAppUpdateSchema)
    @blp.response(200, OAuthAppSchema)
    def put(self, body, app_id):
        """Replace the given fields (integrations:write on every project)."""
        if not request.get_data():
            raise InvalidInput("Send a JSON object with the fields to change ({} changes nothing).",
                               errors={"_body": ["Missing."]})
        return apps.to_record(apps.update(context.keyring(), context.principal(), app_id, body))

    @blp.operation("deleteOauthApp")
    @blp.response(204)
    def delete(self, app_id):
        """Delete an OAuth app and the connections it started that were not finished."""
        apps.delete(context.principal(), app_id)
