"""The MACs that protect an integration's row and its sharing links (`hub.crypto.row_binding`).

Bound on the row: every field that decides where its credentials go or who may read them — its
org, project (or none: org-wide) and `is_global`, provider, auth type, config (the hosts a check
sends the token to), status (the owner's switch) and the credentials' fingerprint (so an older
ciphertext of the same row cannot be put back under today's fields). Generic over the row: a new
auth type or new credential fields need nothing here, since they live in the sealed credentials
and the fingerprint. Not bound: what checks write (`last_verification`, `expired_reason`,
`expires_at`) and what decides nothing (name, description, tags, timestamps).

Each `integration_project` link carries a MAC of (org, integration, project): a link the hub did
not write shares nothing. A row or link that does not verify is refused (Corrupted, naming the
integration) wherever its credentials would be used, and logged for the operator.
"""
from __future__ import annotations

import logging

from hub.crypto import row_binding
from hub.errors import Corrupted
from hub.storage.models import Integration, IntegrationProject

KIND = "integration"
LINK_KIND = "integration_project"

log = logging.getLogger("hub.integrity")


def bound_values(row: Integration) -> dict:
    return {"id": row.id, "org": row.org_id, "project": row.project_id,
            "is_global": bool(row.is_global), "provider": row.provider, "auth_type": row.auth_type,
            "config": row.config, "status": row.status, "fingerprint": row.fingerprint}


def stamp(keyring, row: Integration) -> None:
    """Set the row's MAC from its fields as they are now (before it is saved)."""
    row.integrity = row_binding.mac(keyring, KIND, bound_values(row))


def _refused(row: Integration, what: str) -> Corrupted:
    log.error("integrity check failed: integration %s (%s): %s; its credentials are not used",
              row.id, KIND, what)
    return Corrupted(f"Integration {row.id} failed its integrity check ({what}): its stored record "
                     "was changed outside the hub, so its credentials are not used. The operator "
                     "should restore the row from a backup, or delete the integration and create it "
                     "again.")


def require(keyring, row: Integration) -> None:
    """Corrupted (and a log line) unless the row's MAC verifies."""
    if not row_binding.verifies(keyring, KIND, bound_values(row), row.integrity):
        raise _refused(row, "the fields that decide where its credentials go do not match their MAC")


def require_fingerprint(keyring, row: Integration, plaintext: bytes) -> None:
    """The opened credentials are the ones the (verified) fingerprint names."""
    if keyring.fingerprint(plaintext) != row.fingerprint:
        raise _refused(row, "the stored credentials are not the ones its record names")


def link_mac(keyring, org_id: str, integration_id: str, project_id: str) -> str:
    return row_binding.mac(keyring, LINK_KIND, {"org": org_id, "integration": integration_id,
                                                "project": project_id})


def share(keyring, row: Integration, project_ids) -> None:
    """Replace an org-wide integration's links with these projects, each with its MAC."""
    IntegrationProject.delete().where(IntegrationProject.integration == row.id).execute()
    if project_ids:
        IntegrationProject.insert_many([
            {"integration": row.id, "project": pid,
             "integrity": link_mac(keyring, row.org_id, row.id, pid)} for pid in project_ids
        ]).execute()


def require_links(keyring, rows, project_id: str | None = None) -> None:
    """Every link of these org-wide, not-global rows (only those to `project_id` if given)
    verifies; one query for them all."""
    restricted = {row.id: row for row in rows if row.project_id is None and not row.is_global}
    if not restricted:
        return
    query = (IntegrationProject.select(IntegrationProject.integration, IntegrationProject.project,
                                       IntegrationProject.integrity)
             .where(IntegrationProject.integration.in_(sorted(restricted))))
    if project_id is not None:
        query = query.where(IntegrationProject.project == project_id)
    for integration_id, linked, stored in query.tuples():
        row = restricted[integration_id]
        if not link_verifies(keyring, row.org_id, integration_id, linked, stored):
            raise _refused(row, f"its link to project {linked} was not written by the hub")


def checked(query, keyring):
    """`query` (of whole Integration rows) with each row verified as it is read: Corrupted naming
    the first that does not. A listing shows no row the hub did not write. `keyring` None (a
    principal made without one, in tests of the domain): the query as it is."""
    if keyring is None:
        return query

    def build(**data):
        row = Integration(__no_default__=1, **data)
        row._dirty.clear()
        require(keyring, row)
        return row

    return query.objects(build)


def link_verifies(keyring, org_id: str, integration_id: str, project_id: str, stored) -> bool:
    return row_binding.verifies(keyring, LINK_KIND, {"org": org_id, "integration": integration_id,
                                                     "project": project_id}, stored)
