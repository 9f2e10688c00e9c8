"""The audit log (hub/audit/ does the work): events newest first, and the signed checkpoints with
the key that verifies them."""
import marshmallow as ma
from flask.views import MethodView

from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import IntegerPageArgs, Timestamp, page_schema
from hub.audit import checkpoints, queries
from hub.tenancy import permissions as perms

blp = Blueprint("audit", __name__, url_prefix="/v1",
                description="The audit log: append-only events hash-chained per org, and signed "
                            "checkpoints of each chain's head.")


class AuditEventSchema(ma.Schema):
    id = ma.fields.String(required=True)
    seq = ma.fields.Integer(required=True)
    at = ma.fields.String(required=True, metadata={"format": "date-time"})
    actor = ma.fields.String(required=True, metadata={
        "description": "The key's api_key (hub_pk_...), or cli:<user> for the CLI."})
    action = ma.fields.String(required=True, metadata={"example": "integration.credentials.read"})
    target_type = ma.fields.String(allow_none=True, required=True)
    target_id = ma.fields.String(allow_none=True, required=True)
    project = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "The project's handle when it happened."})
    project_id = ma.fields.String(allow_none=True, required=True)
    outcome = ma.fields.String(required=True, metadata={"enum": ["success", "denied", "failed"]})
    request_id = ma.fields.String(allow_none=True, required=True)
    client_ip = ma.fields.String(allow_none=True, required=True)
    details = ma.fields.Dict(required=True, metadata={"description": "Never a secret value."})
    prev_hash = ma.fields.String(required=True)
    hash = ma.fields.String(required=True)


class AuditEventArgs(IntegerPageArgs):
    action = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    since = Timestamp()


class CheckpointSchema(ma.Schema):
    org = ma.fields.String(required=True)
    seq = ma.fields.Integer(required=True)
    hash = ma.fields.String(required=True)
    at = ma.fields.String(required=True, metadata={"format": "date-time"})
    signature = ma.fields.String(required=True, metadata={"description": "Base64 Ed25519 signature."})
    key_id = ma.fields.String(required=True)


class PublicKeySchema(ma.Schema):
    algorithm = ma.fields.String(required=True, metadata={"example": "Ed25519"})
    key_id = ma.fields.String(required=True, metadata={"description": "The key that signs now."})
    public_key = ma.fields.String(required=True, metadata={"description": "Base64 of the 32-byte key."})
    keys = ma.fields.Dict(required=True, metadata={
        "description": "Every signing key's id and base64 public key, for older checkpoints."})
    signed = ma.fields.String(required=True)


def _events(args, project=None):
    page = queries.list_events(context.principal(), project_ref=project, action=args.get("action"),
                               since=args.get("since"), limit=args["limit"], cursor=args["cursor"])
    page.items = [queries.to_record(row) for row in page.items]
    return page


@blp.route("/projects/<project>/audit-events")
class ProjectAuditEvents(MethodView):
    @blp.operation("listProjectAuditEvents")
    @blp.arguments(AuditEventArgs, location="query")
    @blp.response(200, page_schema(AuditEventSchema, "AuditEventPage"))
    def get(self, args, project):
        """A project's audit events, newest first (audit:read)."""
        return _events(args, project)


@blp.route("/audit-events")
class OrgAuditEvents(MethodView):
    @blp.operation("listAuditEvents")
    @blp.arguments(AuditEventArgs, location="query")
    @blp.response(200, page_schema(AuditEventSchema, "OrgAuditEventPage"))
    def get(self, args):
        """The org's audit events, newest first (audit:read on every project)."""
        return _events(args)


@blp.route("/audit-checkpoints")
class AuditCheckpoints(MethodView):
    @blp.operation("listAuditCheckpoints")
    @blp.arguments(IntegerPageArgs, location="query")
    @blp.response(200, page_schema(CheckpointSchema, "CheckpointPage"))
    def get(self, args):
        """The org's signed checkpoints of its chain head, newest first (audit:read)."""
        return queries.list_checkpoints(context.principal(), limit=args["limit"], cursor=args["cursor"])


@blp.route("/audit-checkpoints/public-key")
class AuditPublicKey(MethodView):
    @blp.operation("getAuditPublicKey")
    @blp.response(200, PublicKeySchema)
    def get(self):
        """The Ed25519 key that verifies the checkpoints (audit:read)."""
        context.principal().require(perms.AUDIT_READ)
        return checkpoints.public_key_record(context.keyring())
