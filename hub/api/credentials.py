"""The credential door (hub/integrations/door.py does the work): decrypted credentials, audited,
never cached."""
import marshmallow as ma
from flask.views import MethodView

from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import PageArgs, page_schema
from hub.integrations import door

blp = Blueprint("credentials", __name__, url_prefix="/v1/projects/<project>",
                description="The audited door: decrypted credentials for keys with credentials:read. "
                            "Every read is an audit event; responses are never cached.")


def never_cached(response):
    """Plaintext credentials: no cache, proxy or browser may keep a copy."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


blp.after_request(never_cached)


class CredentialsSchema(ma.Schema):
    integration_id = ma.fields.String(required=True)
    provider = ma.fields.String(required=True)
    auth_type = ma.fields.String(required=True)
    credentials = ma.fields.Dict(required=True, metadata={
        "description": "The decrypted credentials, as the provider's schema for auth_type has them."})


class CredentialsArgs(PageArgs):
    provider = ma.fields.String()


@blp.route("/integrations/<item:integration_id>/credentials")
class IntegrationCredentials(MethodView):
    @blp.operation("getIntegrationCredentials", errors=(409,))
    @blp.response(200, CredentialsSchema)
    def get(self, project, integration_id):
        """Read one integration's decrypted credentials (credentials:read; audited; 409 when it
        is inactive or expired)."""
        return door.read_one(context.keyring(), context.principal(), project, integration_id)


@blp.route("/credentials")
class ProjectCredentials(MethodView):
    @blp.operation("listProjectCredentials")
    @blp.arguments(CredentialsArgs, location="query")
    @blp.response(200, page_schema(CredentialsSchema, "CredentialsPage"))
    def get(self, args, project):
        """The decrypted credentials of every active integration of the project, paged
        (credentials:read; each read audited)."""
        return door.read_page(context.keyring(), context.principal(), project,
                              provider=args.get("provider"), limit=args["limit"], cursor=args["cursor"])
