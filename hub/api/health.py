import marshmallow as ma
from flask import current_app

from hub.api.blueprint import Blueprint
from hub.storage import database

blp = Blueprint("health", __name__, description="Liveness that really asks the database.")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"enum": ["ok"]})


@blp.route("/healthz")
@blp.doc(security=[])
@blp.operation("getHealth")
@blp.response(200, HealthSchema)
def healthz():
    """Whether the hub and its database answer (no auth).

    503 problem+json when they do not (within PostgreSQL's connect timeout, a few seconds); 200
    again, without a restart, once the database answers."""
    db = current_app.extensions["hub.db"]
    try:
        db.execute_sql("SELECT 1").fetchone()
    except database.DATABASE_ERRORS as exc:
        database.discard_broken(db)
        raise database.unavailable(exc, db) from None
    return {"status": "ok"}
