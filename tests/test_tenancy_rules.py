"""API.md "Tenancy": what a key limited to some projects sees of the org's keys, and that a key
never outlives the key that made it."""
import datetime

from hub.timestamps import to_iso


def test_a_limited_key_sees_only_keys_within_its_projects(hub):
    for handle in ("billing", "search"):
        hub.call("POST", "/v1/projects", json={"handle": handle})
    limited = hub.make_key(role="owner", projects=["billing"], name="billing-admin")
    hub.make_key(role="member", projects=["billing"], name="billing-member")
    hub.make_key(role="member", projects=["billing", "search"], name="both")
    hub.make_key(role="member", projects=["search"], name="search-member")
    listed = hub.call("GET", "/v1/api-keys?limit=200", key=limited).json["items"]
    assert sorted(k["name"] for k in listed) == ["billing-admin", "billing-member"]
    everyone = {k["name"]: k["id"] for k in hub.call("GET", "/v1/api-keys?limit=200").json["items"]}
    assert {"owner", "both", "search-member"} <= set(everyone)
    for hidden in ("owner", "both", "search-member"):
        assert hub.call("GET", f"/v1/api-keys/{everyone[hidden]}", key=limited).status_code == 404
        assert hub.call("DELETE", f"/v1/api-keys/{everyone[hidden]}", key=limited).status_code == 404
    assert hub.call("GET", f"/v1/api-keys/{everyone['billing-member']}", key=limited).status_code == 200


def test_a_key_made_by_an_expiring_key_expires_no_later(hub):
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    expiring = hub.make_key(role="owner", expires_at=soon.replace(tzinfo=None))
    missing = hub.call("POST", "/v1/api-keys", key=expiring, json={"name": "forever"})
    assert missing.status_code == 400 and "expires_at" in missing.json["errors"]
    later = hub.call("POST", "/v1/api-keys", key=expiring,
                     json={"name": "later", "expires_at": to_iso(soon + datetime.timedelta(days=1))})
    assert later.status_code == 400 and "must expire no later" in later.json["detail"]
    earlier = hub.call("POST", "/v1/api-keys", key=expiring,
                       json={"name": "earlier", "expires_at": to_iso(soon - datetime.timedelta(hours=1))})
    assert earlier.status_code == 201, earlier.json
    assert hub.call("POST", "/v1/api-keys", json={"name": "owner-made"}).status_code == 201
