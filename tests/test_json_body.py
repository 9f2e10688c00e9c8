"""A body that is not JSON is answered as such (400 problem+json), not as missing fields."""
import pytest


def _post(hub, data, content_type):
    headers = {"Authorization": f"Bearer {hub.owner_secret}"}
    if content_type:
        headers["Content-Type"] = content_type
    return hub.client.post("/v1/projects", data=data, headers=headers)


@pytest.mark.parametrize("content_type, sent", [
    ("text/plain", "text/plain"),
    ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),  # curl -d without -H
    (None, "without a Content-Type"),
])
def test_a_body_of_another_content_type(hub, content_type, sent):
    resp = _post(hub, '{"handle": "web"}', content_type)
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    detail = resp.json["detail"]
    assert "must be JSON" in detail and sent in detail and "Content-Type: application/json" in detail
    assert "Missing data" not in resp.get_data(as_text=True)
    assert hub.call("GET", "/v1/projects/web").status_code == 404


@pytest.mark.parametrize("body, said", [("{handle: web}", "not valid JSON (Expecting property name"),
                                        (b'{"handle": "caf\xe9"}', "not UTF-8")])
def test_invalid_json(hub, body, said):
    resp = _post(hub, body, "application/json")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert said in resp.json["detail"] and resp.json["errors"] == {"_body": ["Invalid JSON."]}


def test_json_still_works_and_an_empty_body_names_the_fields(hub):
    assert hub.call("POST", "/v1/projects", json={"handle": "web"}).status_code == 201
    empty = _post(hub, "", "text/plain")
    assert empty.status_code == 400 and "handle" in empty.json["errors"]
