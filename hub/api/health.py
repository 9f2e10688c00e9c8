from flask import current_app

from hub.api.blueprint import Blueprint
from hub.errors import Unavailable

blp = Blueprint("health", __name__, description="Liveness that really asks the database.")


@blp.route("/healthz")
@blp.doc(security=[])
def healthz():
    """Whether the hub and its database answer (no auth)."""
    db = current_app.extensions["hub.db"]
    try:
        db.execute_sql("SELECT 1").fetchone()
    except Exception:
        raise Unavailable("The database does not answer. Check HUB_DATABASE_URL and that the "
                          "database server is up.") from None
    return {"status": "ok"}
