import marshmallow as ma
from flask.views import MethodView

from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import PageArgs, Timestamp, always_present, page_schema
from hub.api.verification_schema import VerificationResultSchema
from hub.integrations import org_wide, records, store, validation
from hub.sdk import FullMatch
from hub.storage.models import Integration
from hub.storage.pagination import paginate
from hub.verification import record as verification

blp = Blueprint("integrations", __name__, url_prefix="/v1/projects/<project>/integrations",
                description="A project's integrations: provider credentials (never returned) and config.")

_name = ma.fields.String(validate=FullMatch(validation.NAME_RE,
                                           error="Use 1-100 letters, digits, '_' or '-'."))
_tags = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
                       validate=ma.validate.Length(max=50))


class IntegrationCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=_name.validate)
    provider = ma.fields.String(required=True)
    auth_type = ma.fields.String()
    credentials = ma.fields.Dict(required=True, metadata={
        "description": "Validated by the provider's schema for auth_type; write-only."})
    config = ma.fields.Dict()
    display_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=100))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    tags = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
                          validate=ma.validate.Length(max=50))
    expires_at = Timestamp(allow_none=True)


class IntegrationUpdateSchema(IntegrationCreateSchema):
    """Each field given replaces that field whole; omitted fields stay as they are."""

    name = ma.fields.String(validate=_name.validate)
    provider = ma.fields.String(metadata={"description": "Immutable: must equal the stored one."})
    credentials = ma.fields.Dict()
    status = ma.fields.String(validate=ma.validate.OneOf(records.SETTABLE_STATUSES))


@always_present()
class CredentialsSummarySchema(ma.Schema):
    fields = ma.fields.List(ma.fields.String())
    fingerprint = ma.fields.String()
    updated_at = Timestamp()


@always_present("is_global", "projects", "shared")
class IntegrationSchema(ma.Schema):
    id = ma.fields.String()
    project = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    provider = ma.fields.String()
    auth_type = ma.fields.String()
    display_name = ma.fields.String(allow_none=True)
    description = ma.fields.String(allow_none=True)
    config = ma.fields.Dict()
    tags = ma.fields.List(ma.fields.String())
    status = ma.fields.String(metadata={"enum": ["active", "inactive", "expired"]})
    credentials = ma.fields.Nested(CredentialsSummarySchema)
    expires_at = Timestamp(allow_none=True)
    last_verification = ma.fields.Nested(VerificationResultSchema, allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    is_global = ma.fields.Boolean(metadata={
        "description": "Org-wide integrations only: every project of the org may use it."})
    projects = ma.fields.List(ma.fields.String(), allow_none=True, metadata={
        "description": "Org-wide integrations only: the projects it is shared with (null when global)."})
    shared = ma.fields.Boolean(metadata={
        "description": "With include_shared=true: whether this is an org-wide integration."})


class IntegrationListArgs(PageArgs):
    provider = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf(["active", "inactive", "expired"]))
    tag = ma.fields.String()
    include_shared = ma.fields.Boolean(load_default=False, metadata={
        "description": "Add the org-wide integrations that apply to this project (`shared: true`)."})


class CreateArgs(ma.Schema):
    verify = ma.fields.Boolean(load_default=False, metadata={
        "description": "Run the provider's check first; refuse with 400 if it fails."})


class CopySchema(ma.Schema):
    source_project_id = ma.fields.String(required=True, metadata={"description": "Handle or id."})
    source_integration_id = ma.fields.String(required=True)
    name = ma.fields.String(validate=_name.validate)


class ProposalSchema(ma.Schema):
    config = ma.fields.Dict()
    credentials = ma.fields.Dict()


def _record(project, row):
    return records.to_record(row, project.handle, context.providers().get(row.provider))


@blp.route("")
class Integrations(MethodView):
    @blp.operation("createIntegration", errors=(409, 429), links={
        name: {"project": "$request.path.project", "integration_id": "$response.body#/id"}
        for name in ("getIntegration", "updateIntegration", "deleteIntegration",
                     "verifyIntegration", "getIntegrationCredentials")})
    @blp.arguments(CreateArgs, location="query")
    @blp.arguments(IntegrationCreateSchema)
    @blp.response(201, IntegrationSchema)
    def post(self, args, body, project):
        """Create an integration (integrations:write); `?verify=true` checks it first."""
        return _record(*store.create(context.integration_services(), context.principal(),
                                            project, body, verify=args["verify"]))

    @blp.operation("listIntegrations")
    @blp.arguments(IntegrationListArgs, location="query")
    @blp.response(200, page_schema(IntegrationSchema, "IntegrationPage"))
    def get(self, args, project):
        """List integrations, filtered by provider, status or tag (integrations:read)."""
        include_shared = args["include_shared"]
        found, query = records.list_query(context.principal(), project, provider=args.get("provider"),
                                          status=args.get("status"), tag=args.get("tag"),
                                          include_shared=include_shared)
        page = paginate(query, Integration.id, limit=args["limit"], cursor=args["cursor"])
        if not include_shared:
            page.items = [_record(found, row) for row in page.items]
            return page
        scopes = org_wide.shared_with(context.principal(), page.items)
        page.items = [records.to_record(row, found.handle if row.project_id else None,
                                        context.providers().get(row.provider),
                                        shared_with=scopes.get(row.id), shared=row.project_id is None)
                      for row in page.items]
        return page


@blp.route("/copy")
class IntegrationCopy(MethodView):
    @blp.operation("copyIntegration", errors=(409,), links={
        name: {"project": "$request.path.project", "integration_id": "$response.body#/id"}
        for name in ("getIntegration", "updateIntegration", "deleteIntegration",
                     "verifyIntegration", "getIntegrationCredentials")})
    @blp.arguments(CopySchema)
    @blp.response(201, IntegrationSchema)
    def post(self, body, project):
        """Copy an integration from another project of the org (integrations:write and :read)."""
        return _record(*store.copy(context.integration_services(), context.principal(), project,
                                          body["source_project_id"], body["source_integration_id"],
                                          body.get("name")))


@blp.route("/<item:integration_id>")
class IntegrationItem(MethodView):
    @blp.operation("getIntegration")
    @blp.response(200, IntegrationSchema)
    def get(self, project, integration_id):
        """One integration (integrations:read). Credential values are never in it."""
        return _record(*records.get(context.principal(), project, integration_id))

    @blp.operation("updateIntegration", errors=(409,))
    @blp.arguments(IntegrationUpdateSchema)
    @blp.response(200, IntegrationSchema)
    def put(self, body, project, integration_id):
        """Replace the given fields (integrations:write). `{"status": "inactive"}` disables."""
        return _record(*store.update(context.integration_services(), context.principal(),
                                            project, integration_id, body))

    @blp.operation("deleteIntegration")
    @blp.response(204)
    def delete(self, project, integration_id):
        """Delete an integration and its ciphertext (integrations:write)."""
        store.delete(context.principal(), project, integration_id)


@blp.route("/<item:integration_id>:verifyConfig")
class IntegrationVerify(MethodView):
    @blp.operation("verifyIntegration", errors=(409, 429))
    @blp.arguments(ProposalSchema, required=False)
    @blp.response(200, VerificationResultSchema)
    def post(self, body, project, integration_id):
        """Check the stored credentials and record the result (integrations:verify). With a body,
        check the proposed config/credentials over the stored ones and store nothing."""
        return verification.verify_stored(context.integration_services(), context.principal(),
                                          project, integration_id, body or None)
