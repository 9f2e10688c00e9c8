"""The credential door (hub/integrations/door.py does the work): decrypted credentials, audited,
never cached."""
import marshmallow as ma
from flask.views import MethodView

from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import PageArgs, page_schema
from hub.integrations import door
from hub.oauth import refresh

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


_MIN_VALID = ma.fields.Integer(
    load_default=refresh.DEFAULT_MIN_VALID,
    validate=ma.validate.Range(min=0, max=refresh.MAX_MIN_VALID), metadata={
        "description": "OAuth integrations: the access token returned stays valid at least this "
                       "many seconds (refreshed first if it would not)."})


class FreshnessArgs(ma.Schema):
    min_valid = _MIN_VALID


class CredentialsArgs(PageArgs):
    provider = ma.fields.String()
    min_valid = _MIN_VALID


def _refresher(min_valid: int):
    """What the door calls to make an OAuth token fresh before serving it."""
    services = context.integration_services()

    def fresh(principal, row, project):
        return refresh.fresh_or_raise(services, principal, row, project, min_valid=min_valid)

    # Only OAuth rows have a token to refresh: the door reads any other row once.
    fresh.applies = lambda row: refresh.oauth_method_of(services, row) is not None
    return fresh


@blp.route("/integrations/<item:integration_id>/credentials")
class IntegrationCredentials(MethodView):
    @blp.operation("getIntegrationCredentials", errors=(409,))
    @blp.arguments(FreshnessArgs, location="query")
    @blp.response(200, CredentialsSchema)
    def get(self, args, project, integration_id):
        """Read one integration's decrypted credentials (credentials:read; audited; 409 when it
        is inactive or expired). An OAuth access token is refreshed first if it would expire
        within `min_valid` seconds."""
        return door.read_one(context.keyring(), context.principal(), project, integration_id,
                             refresh=_refresher(args["min_valid"]))


@blp.route("/credentials")
class ProjectCredentials(MethodView):
    @blp.operation("listProjectCredentials")
    @blp.arguments(CredentialsArgs, location="query")
    @blp.response(200, page_schema(CredentialsSchema, "CredentialsPage"))
    def get(self, args, project):
        """The decrypted credentials of every active integration of the project, paged
        (credentials:read; each read audited)."""
        return door.read_page(context.keyring(), context.principal(), project,
                              provider=args.get("provider"), limit=args["limit"], cursor=args["cursor"],
                              refresh=_refresher(args["min_valid"]))
