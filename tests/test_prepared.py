"""Prepared queries give the same rows as the peewee queries they were compiled from."""
from hub.storage.models import ApiKey, Project
from hub.storage.prepared import Prepared, slot


def test_prepared_matches_peewee(hub):
    by_handle = Prepared(Project, lambda: Project.select().where(
        (Project.org == slot("org")) & (Project.handle == slot("ref"))).limit(1))
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        found = by_handle.first(org=hub.org.id, ref="payments")
        assert found.id == hub.project.id and found.org_id == hub.org.id
        assert found.created_at == Project.get_by_id(hub.project.id).created_at  # types converted
        assert by_handle.first(org=hub.org.id, ref="nope") is None
        assert by_handle.first(org="other-org", ref="payments") is None
        key = Prepared(ApiKey, lambda: ApiKey.select().where(ApiKey.name == slot("n")).limit(1)).first(n="owner")
        assert key.permissions == ApiKey.get(ApiKey.name == "owner").permissions  # JSON decoded
