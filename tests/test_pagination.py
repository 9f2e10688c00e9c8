"""Keyset pages over more rows than a page: no duplicates, no gaps, opaque cursors."""
from hub.storage.models import Project


def test_walk_every_page_without_duplicates_or_gaps(hub):
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        with hub.app.extensions["hub.db"].atomic():
            for i in range(57):
                Project.create(org=hub.org.id, handle=f"p-{i:03d}")
    seen, cursor, pages = [], None, 0
    while True:
        url = "/v1/projects?limit=10" + (f"&cursor={cursor}" if cursor else "")
        body = hub.call("GET", url).json
        pages += 1
        seen.extend(p["handle"] for p in body["items"])
        assert body["has_more"] == (body["next_cursor"] is not None)
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    assert pages == 6
    assert len(seen) == len(set(seen)) == 58  # 57 + the fixture's project
    assert set(seen) == {f"p-{i:03d}" for i in range(57)} | {"payments"}


def test_rows_deleted_or_added_while_paging_leave_no_gap(hub):
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        for i in range(5):
            Project.create(org=hub.org.id, handle=f"a-{i}")
    everything = [p["handle"] for p in hub.call("GET", "/v1/projects?limit=200").json["items"]]
    first = hub.call("GET", "/v1/projects?limit=3").json
    # A row of the first page goes and a new one comes: an offset would now skip a row.
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        Project.delete().where(Project.handle == first["items"][0]["handle"]).execute()
        Project.create(org=hub.org.id, handle="late-comer")
    second = hub.call("GET", f"/v1/projects?limit=3&cursor={first['next_cursor']}").json
    assert [p["handle"] for p in second["items"]] == everything[3:6]


def test_bad_cursor_and_limit_are_400(hub):
    resp = hub.call("GET", "/v1/projects?cursor=%%%garbage")
    assert resp.status_code == 400 and "cursor" in resp.json["errors"]
    resp = hub.call("GET", "/v1/projects?cursor=bm90LWpzb24")  # base64 of "not-json"
    assert resp.status_code == 400 and "cursor" in resp.json["errors"]
    for limit in ("0", "201", "ten"):
        resp = hub.call("GET", f"/v1/projects?limit={limit}")
        assert resp.status_code == 400 and "limit" in resp.json["errors"]


def test_default_limit_is_50(hub):
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        for i in range(60):
            Project.create(org=hub.org.id, handle=f"d-{i:02d}")
    body = hub.call("GET", "/v1/projects").json
    assert len(body["items"]) == 50 and body["has_more"]
