import marshmallow as ma
from flask.views import MethodView

from hub import tenancy
from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import PageArgs, Timestamp, always_present, page_schema
from hub.sdk import FullMatch
from hub.storage.models import Project
from hub.storage.pagination import paginate
from hub.tenancy.projects import HANDLE_RE

blp = Blueprint("projects", __name__, url_prefix="/v1/projects", description="Projects of an org.")


class ProjectCreateSchema(ma.Schema):
    # The domain checks the handle too (the CLI makes projects); here so the document says it.
    handle = ma.fields.String(required=True, validate=FullMatch(
        HANDLE_RE, error="Use 2-63 lower-case letters, digits or '-', starting with a letter or "
                         "digit."), metadata={"example": "payments"})
    display_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))


@always_present()
class ProjectSchema(ma.Schema):
    id = ma.fields.String(metadata={"format": "uuid"})
    handle = ma.fields.String(metadata={"example": "payments"})
    display_name = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


@blp.route("")
class Projects(MethodView):
    @blp.operation("createProject", errors=(409,), links={
        name: {"project": "$response.body#/handle"} for name in (
            "getProject", "deleteProject", "listIntegrations", "createIntegration",
            "listSecrets", "createSecret", "resolveSecrets",
            "listProjectCredentials", "listProjectAuditEvents")})
    @blp.arguments(ProjectCreateSchema)
    @blp.response(201, ProjectSchema)
    def post(self, body):
        """Create a project (projects:admin)."""
        return tenancy.create_project(context.principal(), body["handle"], body.get("display_name"))

    @blp.operation("listProjects")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ProjectSchema, "ProjectPage"))
    def get(self, args):
        """The projects this key reaches."""
        return paginate(tenancy.list_projects(context.principal()), Project.id, **args)


@blp.route("/<project>")
class ProjectItem(MethodView):
    @blp.operation("getProject")
    @blp.response(200, ProjectSchema)
    def get(self, project):
        """One project, by handle or id."""
        return tenancy.find_project(context.principal(), project)

    @blp.operation("deleteProject")
    @blp.response(204)
    def delete(self, project):
        """Delete a project with its integrations, secrets and their ciphertexts (projects:admin)."""
        tenancy.delete_project(context.principal(), project)
