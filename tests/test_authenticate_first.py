"""Red-team finding 6: on /v1 the key is checked before the body is parsed, and a number no
column can hold is a 400, not a 500. Routes documented with `security: []` (an OAuth callback,
whose state is the capability) are the only ones left to their views."""
from flask.views import MethodView

from hub.api.blueprint import Blueprint


def test_an_unauthenticated_caller_gets_401_whatever_the_body(hub):
    for body in ("{not json", '{"handle": ' + "9" * 5000 + "}", "[" * 50_000, '{"handle": NaN}'):
        resp = hub.call("POST", "/v1/projects", key=None, data=body,
                        headers={"Content-Type": "application/json"})
        assert resp.status_code == 401, (body[:20], resp.status_code)
    authenticated = hub.call("POST", "/v1/projects", data='{"handle": ' + "9" * 5000 + "}",
                             headers={"Content-Type": "application/json"})
    assert authenticated.status_code == 400
    assert authenticated.json["errors"] == {"handle": ["Number out of range."]}


def test_unknown_routes_answer_their_404_and_405_without_a_key(hub):
    assert hub.call("GET", "/v1/nowhere", key=None).status_code == 404
    assert hub.call("PATCH", "/v1/projects", key=None).status_code == 405


def test_a_route_documented_without_security_is_left_to_its_view(hub):
    app = hub.app  # no request served yet, so a blueprint can still be added
    blp = Blueprint("public_probe", __name__, url_prefix="/v1/probe")

    @blp.route("/open")
    class Open(MethodView):
        @blp.doc(security=[])
        def post(self):
            return {"seen": "view"}

    @blp.route("/closed")
    class Closed(MethodView):
        def post(self):
            return {"seen": "view"}

    app.extensions["hub.api"].register_blueprint(blp)
    client = app.test_client()
    opened = client.post("/v1/probe/open", data="{not json", headers={"Content-Type": "application/json"})
    assert opened.status_code == 200 and opened.json == {"seen": "view"}
    assert client.post("/v1/probe/closed", json={}).status_code == 401
    documented = client.get("/openapi.json").json["paths"]["/v1/probe/open"]["post"]
    assert documented["security"] == []
