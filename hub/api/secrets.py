"""Versioned secrets of a project (hub/secrets/store.py does the work)."""
import marshmallow as ma
from flask.views import MethodView

from hub.api import context
from hub.api.blueprint import Blueprint
from hub.api.fields import PageArgs, VersionPageArgs, WholeNumber, page_schema
from hub.secrets import store as secret_store
from hub.secrets.schemas import SecretSchema, SecretVersionSchema, SecretWrittenSchema
from hub.storage.models import Secret
from hub.storage.pagination import paginate

blp = Blueprint("secrets", __name__, url_prefix="/v1/projects",
                description="Versioned secrets of a project: each version is one frozen set of "
                            "string values, sealed; only `secrets:resolve` hands values out.")

_VALUES_DOC = {
    "type": "object", "minProperties": 1,
    "additionalProperties": {"type": "string", "pattern": "^[^\\u0000]*$"},
    "writeOnly": True, "example": {"username": "app", "password": "s3cr3t"},
    "description": "String keys (1-200 of letters, digits, '_', '-', '.') to string values; "
                   "at most 64 KiB of JSON. Never returned by any read.",
}


_VALUES_KEYS = {"propertyNames": {"pattern": "^[A-Za-z0-9_.-]{1,200}$"}}


class SecretCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={
        "pattern": "^[A-Za-z0-9_-]{1,100}$", "example": "db"})
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    # Checked by the domain, so that the API and the CLI report a bad key alike ("values.KEY").
    values = ma.fields.Raw(required=True, metadata={**_VALUES_DOC, "openapi": _VALUES_KEYS})


class SecretUpdateSchema(ma.Schema):
    values = ma.fields.Raw(required=True, metadata={**_VALUES_DOC, "openapi": _VALUES_KEYS})
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    cas = WholeNumber(validate=ma.validate.Range(min=1), metadata={
        "description": "Write only if the newest version is this one (else 409 with current_version)."})


class ResolveSchema(ma.Schema):
    template = ma.fields.String(required=True, metadata={
        "example": "postgres://${secret:db.username}:${secret:db.password}@db:5432/app",
        "description": "`${secret:NAME.KEY}` is replaced by that key of secret NAME's enabled "
                       "version; `$${` stands for a literal `${`."})


class ResolvedSchema(ma.Schema):
    result = ma.fields.String(required=True)


def _written(written: secret_store.Written) -> Secret:
    written.secret.written_version = written.version  # for this one response
    return written.secret


@blp.route("/<project>/secrets")
class Secrets(MethodView):
    @blp.operation("createSecret", errors=(409,), links={
        name: {"project": "$request.path.project", "name": "$response.body#/name"}
        for name in ("getSecret", "updateSecret", "deleteSecret", "listSecretVersions")} | {
        name: {"project": "$request.path.project", "name": "$response.body#/name",
               "version": "$response.body#/version/version"}
        for name in ("getSecretVersion", "enableSecretVersion", "disableSecretVersion",
                     "destroySecretVersion")})
    @blp.arguments(SecretCreateSchema)
    @blp.response(201, SecretWrittenSchema)
    def post(self, body, project):
        """Create a secret with version 1 ENABLED (secrets:write)."""
        return _written(secret_store.create_secret(context.keyring(), context.principal(), project, **body))

    @blp.operation("listSecrets")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(SecretSchema, "SecretPage"))
    def get(self, args, project):
        """The project's secrets, metadata only, oldest first (secrets:read)."""
        return paginate(secret_store.list_secrets(context.principal(), project), Secret.id, **args)


@blp.route("/<project>/secrets:resolve")
class SecretsResolve(MethodView):
    @blp.operation("resolveSecrets")
    @blp.arguments(ResolveSchema)
    @blp.response(200, ResolvedSchema)
    def post(self, body, project):
        """Replace every ${secret:NAME.KEY} in a template with its enabled value (secrets:access)."""
        result = secret_store.resolve(context.keyring(), context.principal(), project, body["template"])
        return {"result": result}, {"Cache-Control": "no-store"}  # plaintext: never cached


@blp.route("/<project>/secrets/<name>")
class SecretItem(MethodView):
    @blp.operation("getSecret")
    @blp.response(200, SecretSchema)
    def get(self, project, name):
        """A secret's metadata, never its values (secrets:read)."""
        return secret_store.get_secret(context.principal(), project, name)

    @blp.operation("updateSecret", errors=(409,), links={
        name: {"project": "$request.path.project", "name": "$response.body#/name"}
        for name in ("getSecret", "updateSecret", "deleteSecret", "listSecretVersions")} | {
        name: {"project": "$request.path.project", "name": "$response.body#/name",
               "version": "$response.body#/version/version"}
        for name in ("getSecretVersion", "enableSecretVersion", "disableSecretVersion",
                     "destroySecretVersion")})
    @blp.arguments(SecretUpdateSchema)
    @blp.response(200, SecretWrittenSchema)
    def put(self, body, project, name):
        """Write a new ENABLED version; the enabled one becomes DISABLED (secrets:write)."""
        return _written(secret_store.update_secret(context.keyring(), context.principal(), project,
                                                   name, **body))

    @blp.operation("deleteSecret")
    @blp.response(204)
    def delete(self, project, name):
        """Delete a secret with every version and its ciphertext (secrets:write)."""
        secret_store.delete_secret(context.principal(), project, name)


@blp.route("/<project>/secrets/<name>/versions")
class SecretVersions(MethodView):
    @blp.operation("listSecretVersions")
    @blp.arguments(VersionPageArgs, location="query")
    @blp.response(200, page_schema(SecretVersionSchema, "SecretVersionPage"))
    def get(self, args, project, name):
        """A secret's versions by number, with their states and sha256 (secrets:read)."""
        return secret_store.list_versions(context.principal(), project, name, **args)


@blp.route("/<project>/secrets/<name>/versions/<int:version>")
class SecretVersionItem(MethodView):
    @blp.operation("getSecretVersion")
    @blp.response(200, SecretVersionSchema)
    def get(self, project, name, version):
        """One version's metadata, never its values (secrets:read)."""
        return secret_store.get_version(context.principal(), project, name, version)


@blp.route("/<project>/secrets/<name>/versions/<int:version>:enable")
class SecretVersionEnable(MethodView):
    @blp.operation("enableSecretVersion", errors=(409,))
    @blp.response(200, SecretVersionSchema)
    def post(self, project, name, version):
        """Make this version the one ENABLED, e.g. to roll back (secrets:write)."""
        return secret_store.enable_version(context.principal(), project, name, version)


@blp.route("/<project>/secrets/<name>/versions/<int:version>:disable")
class SecretVersionDisable(MethodView):
    @blp.operation("disableSecretVersion", errors=(409,))
    @blp.response(200, SecretVersionSchema)
    def post(self, project, name, version):
        """Disable this version (secrets:write)."""
        return secret_store.disable_version(context.principal(), project, name, version)


@blp.route("/<project>/secrets/<name>/versions/<int:version>:destroy")
class SecretVersionDestroy(MethodView):
    @blp.operation("destroySecretVersion", errors=(409,))
    @blp.response(200, SecretVersionSchema)
    def post(self, project, name, version):
        """Erase this version's values for good; its metadata and sha256 stay (secrets:write)."""
        return secret_store.destroy_version(context.principal(), project, name, version)
