import marshmallow as ma
from flask.views import MethodView

from hub import tenancy
from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import PageArgs, Timestamp, page_schema
from hub.storage.models import Project
from hub.storage.pagination import paginate

blp = Blueprint("projects", __name__, url_prefix="/v1/projects", description="Projects of an org.")


class ProjectSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    handle = ma.fields.String(required=True, metadata={"example": "payments"})
    display_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


@blp.route("")
class Projects(MethodView):
    @blp.arguments(ProjectSchema)
    @blp.response(201, ProjectSchema)
    def post(self, body):
        """Create a project (projects:admin)."""
        return tenancy.create_project(context.principal(), body["handle"], body.get("display_name"))

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ProjectSchema, "ProjectPage"))
    def get(self, args):
        """The projects this key reaches."""
        return paginate(tenancy.list_projects(context.principal()), Project.id, **args)


@blp.route("/<project>")
class ProjectItem(MethodView):
    @blp.response(200, ProjectSchema)
    def get(self, project):
        """One project, by handle or id."""
        return tenancy.find_project(context.principal(), project)

    @blp.response(204)
    def delete(self, project):
        """Delete a project with its integrations, secrets and their ciphertexts (projects:admin)."""
        tenancy.delete_project(context.principal(), project)
