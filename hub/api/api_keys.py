import marshmallow as ma
from flask.views import MethodView

from hub import tenancy
from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import PageArgs, ProjectRef, Timestamp, always_present, page_schema
from hub.storage.models import ApiKey
from hub.storage.pagination import paginate
from hub.tenancy import permissions

blp = Blueprint("api_keys", __name__, url_prefix="/v1/api-keys", description="API keys of an org.")


class ApiKeyCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    role = ma.fields.String(validate=ma.validate.OneOf(sorted(permissions.ROLES)))
    permissions = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(permissions.ALL)))
    projects = ma.fields.List(ProjectRef(), metadata={
        "description": "Project handles or ids; omitted: every project of the org."})
    expires_at = Timestamp(allow_none=True)


@always_present()
class ApiKeySchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    api_key = ma.fields.String(attribute="public_id", metadata={"example": "hub_pk_0123456789abcdef"})
    role = ma.fields.String(allow_none=True)
    permissions = ma.fields.List(ma.fields.String())
    projects = ma.fields.Method("_project_handles", allow_none=True, metadata={
        "type": "array", "items": {"type": "string"},
        "description": "The handles of the projects it is limited to; null: every project."})
    expires_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    revoked_at = Timestamp(allow_none=True)

    def _project_handles(self, key):
        return tenancy.project_handles(key.projects)


@always_present()
class ApiKeyCreatedSchema(ApiKeySchema):
    secret = ma.fields.String(metadata={
        "description": "The bearer token. Returned only in this response; store it now.",
        "example": "hub_sk_<shown once>"})


@blp.route("")
class ApiKeys(MethodView):
    @blp.operation("createApiKey", errors=(409,), links={
        name: {"key_id": "$response.body#/id"} for name in ("getApiKey", "revokeApiKey")})
    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, ApiKeyCreatedSchema)
    def post(self, body):
        """Create an API key (keys:admin). The secret is in this response only."""
        key, secret = tenancy.create_api_key(context.keyring(), context.principal(), **body)
        key.secret = secret  # for this one response; never stored
        return key

    @blp.operation("listApiKeys")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ApiKeySchema, "ApiKeyPage"))
    def get(self, args):
        """The org's API keys, without secrets (keys:admin)."""
        return paginate(tenancy.api_key_query(context.principal()), ApiKey.id, **args)


@blp.route("/<key_id>")
class ApiKeyItem(MethodView):
    @blp.operation("getApiKey")
    @blp.response(200, ApiKeySchema)
    def get(self, key_id):
        """One API key, by id or public id (keys:admin)."""
        return tenancy.find_api_key(context.principal(), key_id)

    @blp.operation("revokeApiKey")
    @blp.response(204)
    def delete(self, key_id):
        """Revoke a key: every later call with it answers 401 (keys:admin).

        The record stays, with `revoked_at` set, for the audit trail: GET still shows it."""
        tenancy.revoke_api_key(context.principal(), key_id)
