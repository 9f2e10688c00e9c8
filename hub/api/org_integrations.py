"""Org-wide integrations (hub/integrations/org_wide.py does the work): credentials that belong to
the whole org, shared with every project (`is_global`) or with named ones (`projects`)."""
import marshmallow as ma
from flask.views import MethodView

from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.credentials import CredentialsSchema, never_cached
from hub.api.fields import PageArgs, ProjectRef, page_schema
from hub.api.integrations import (
    CreateArgs,
    IntegrationCreateSchema,
    IntegrationSchema,
    IntegrationUpdateSchema,
    ProposalSchema,
)
from hub.api.verification_schema import VerificationResultSchema
from hub.integrations import door, org_wide, records
from hub.storage.models import Integration
from hub.storage.pagination import paginate

blp = Blueprint("org_integrations", __name__, url_prefix="/v1/integrations",
                description="Org-wide integrations: shared with every project of the org or with "
                            "named ones. Credential values are never in these records.")

_SCOPE_DOC = "Exactly one of is_global: true and projects: [handles or ids]."


class OrgIntegrationCreateSchema(IntegrationCreateSchema):
    is_global = ma.fields.Boolean(metadata={"description": _SCOPE_DOC})
    projects = ma.fields.List(ProjectRef(), validate=ma.validate.Length(min=1, max=200),
                              metadata={"description": _SCOPE_DOC})


class OrgIntegrationUpdateSchema(IntegrationUpdateSchema):
    is_global = ma.fields.Boolean(metadata={"description": "Replaces the scope. " + _SCOPE_DOC})
    projects = ma.fields.List(ProjectRef(), validate=ma.validate.Length(min=1, max=200),
                              metadata={"description": "Replaces the scope. " + _SCOPE_DOC})


class OrgIntegrationListArgs(PageArgs):
    provider = ma.fields.String()


class SharedCredentialsArgs(PageArgs):
    project = ProjectRef(required=True, metadata={
        "description": "The project (handle or id) whose applicable org-wide credentials to read."})
    provider = ma.fields.String()


def _records(rows):
    scopes = org_wide.shared_with(context.principal(), rows)
    return [records.to_record(row, None, context.providers().get(row.provider),
                              shared_with=scopes.get(row.id)) for row in rows]


@blp.route("")
class OrgIntegrations(MethodView):
    @blp.operation("createOrgIntegration", errors=(409, 429), links={
        name: {"integration_id": "$response.body#/id"}
        for name in ("getOrgIntegration", "updateOrgIntegration", "deleteOrgIntegration",
                     "verifyOrgIntegration")})
    @blp.arguments(CreateArgs, location="query")
    @blp.arguments(OrgIntegrationCreateSchema)
    @blp.response(201, IntegrationSchema)
    def post(self, args, body):
        """Create an org-wide integration (integrations:write; the key must reach every project
        it names, or every project of the org for is_global)."""
        row = org_wide.create(context.integration_services(), context.principal(), body,
                              verify=args["verify"])
        return _records([row])[0]

    @blp.operation("listOrgIntegrations")
    @blp.arguments(OrgIntegrationListArgs, location="query")
    @blp.response(200, page_schema(IntegrationSchema, "OrgIntegrationPage"))
    def get(self, args):
        """The org-wide integrations this key sees (integrations:read)."""
        query = org_wide.list_query(context.principal(), provider=args.get("provider"))
        page = paginate(query, Integration.id, limit=args["limit"], cursor=args["cursor"])
        page.items = _records(page.items)
        return page


@blp.route("/credentials")
class SharedCredentials(MethodView):
    @blp.operation("listSharedCredentials", errors=(404,))
    @blp.arguments(SharedCredentialsArgs, location="query")
    @blp.response(200, page_schema(CredentialsSchema, "SharedCredentialsPage"))
    def get(self, args):
        """The decrypted credentials of the active org-wide integrations that apply to a project,
        paged (credentials:read; each read audited)."""
        return door.read_shared(context.keyring(), context.principal(), args["project"],
                                provider=args.get("provider"), limit=args["limit"],
                                cursor=args["cursor"])


blp.after_request(never_cached)


@blp.route("/<item:integration_id>")
class OrgIntegrationItem(MethodView):
    @blp.operation("getOrgIntegration")
    @blp.response(200, IntegrationSchema)
    def get(self, integration_id):
        """One org-wide integration (integrations:read)."""
        return _records([org_wide.get(context.principal(), integration_id)])[0]

    @blp.operation("updateOrgIntegration", errors=(409,))
    @blp.arguments(OrgIntegrationUpdateSchema)
    @blp.response(200, IntegrationSchema)
    def put(self, body, integration_id):
        """Replace the given fields (integrations:write); is_global or projects replaces the scope."""
        return _records([org_wide.update(context.integration_services(), context.principal(),
                                         integration_id, body)])[0]

    @blp.operation("deleteOrgIntegration")
    @blp.response(204)
    def delete(self, integration_id):
        """Delete it from every project that used it, with its ciphertext (integrations:write)."""
        org_wide.delete(context.principal(), integration_id)


@blp.route("/<item:integration_id>:verifyConfig")
class OrgIntegrationVerify(MethodView):
    @blp.operation("verifyOrgIntegration", errors=(409, 429))
    @blp.arguments(ProposalSchema, required=False)
    @blp.response(200, VerificationResultSchema)
    def post(self, body, integration_id):
        """Check the stored credentials and record the result (integrations:verify); with a body,
        check the proposal over the stored ones and store nothing."""
        return org_wide.verify(context.integration_services(), context.principal(), integration_id,
                               body or None)
