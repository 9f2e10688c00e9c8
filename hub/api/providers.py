import marshmallow as ma
from flask.views import MethodView

from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import always_present
from hub.api.verification_schema import VerificationResultSchema
from hub.errors import NotFound
from hub.plugins.describe import describe_provider
from hub.verification import record as verification

blp = Blueprint("providers", __name__, url_prefix="/v1/providers",
                description="Providers loaded from plugins: their auth methods, schemas and UI metadata.")


@always_present()
class ProviderSchema(ma.Schema):
    name = ma.fields.String()
    display_name = ma.fields.String()
    description = ma.fields.String()
    version = ma.fields.String()
    package = ma.fields.String(allow_none=True)
    verify_supported = ma.fields.Boolean()
    auth_methods = ma.fields.List(ma.fields.Dict())
    config_schema = ma.fields.Dict()
    config_metadata = ma.fields.Dict()


@always_present()
class ProviderListSchema(ma.Schema):
    """The list envelope; providers are few, so there is always one page."""

    items = ma.fields.List(ma.fields.Nested(ProviderSchema))
    next_cursor = ma.fields.String(allow_none=True)
    has_more = ma.fields.Boolean()


class DryRunSchema(ma.Schema):
    auth_type = ma.fields.String()
    credentials = ma.fields.Dict(required=True, metadata={"description": "Checked, never stored."})
    config = ma.fields.Dict()


@blp.route("")
class Providers(MethodView):
    @blp.operation("listProviders", without=(403,), links={
        name: {"provider": "$response.body#/items/0/name"}
        for name in ("getProvider", "verifyProviderConfig")})
    @blp.response(200, ProviderListSchema)
    def get(self):
        """Every loaded provider (any valid key)."""
        context.principal()
        registry = context.providers()
        return {"items": [describe_provider(registry.get(name)) for name in registry.names()],
                "next_cursor": None, "has_more": False}


@blp.route("/<provider>")
class ProviderItem(MethodView):
    @blp.operation("getProvider", without=(403,), links={
        "verifyProviderConfig": {"provider": "$request.path.provider"}})
    @blp.response(200, ProviderSchema)
    def get(self, provider):
        """One provider (any valid key)."""
        context.principal()
        found = context.providers().get(provider)
        if found is None:
            raise NotFound(f"No provider '{provider}'. GET /v1/providers lists the loaded ones.")
        return describe_provider(found)


@blp.route("/<provider>:verifyConfig")
class ProviderDryRun(MethodView):
    @blp.operation("verifyProviderConfig", errors=(429,))
    @blp.arguments(DryRunSchema)
    @blp.response(200, VerificationResultSchema)
    def post(self, body, provider):
        """Check credentials that are not stored (integrations:verify). Nothing is stored."""
        return verification.verify_unsaved(context.integration_services(), context.principal(),
                                           provider, body)
