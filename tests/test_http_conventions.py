"""problem+json everywhere, field-named validation errors, request ids, health, OpenAPI."""


def _is_problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.content_type == "application/problem+json"
    body = resp.json
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    assert "Traceback" not in resp.get_data(as_text=True)
    return body


def test_bad_json_is_400(hub):
    resp = hub.call("POST", "/v1/projects", data="{not json", headers={"Content-Type": "application/json"})
    _is_problem(resp, 400)


def test_unknown_field_is_400_naming_it(hub):
    body = _is_problem(hub.call("POST", "/v1/projects", json={"handle": "ok-handle", "colour": "red"}), 400)
    assert "colour" in body["errors"]


def test_wrong_type_is_400_naming_field(hub):
    body = _is_problem(hub.call("POST", "/v1/api-keys", json={"name": 5}), 400)
    assert "name" in body["errors"]
    body = _is_problem(hub.call("POST", "/v1/api-keys", json={"name": "n", "permissions": ["nope"]}), 400)
    assert "permissions.0" in body["errors"]


def test_missing_field_and_bad_handle(hub):
    assert "handle" in _is_problem(hub.call("POST", "/v1/projects", json={}), 400)["errors"]
    assert "handle" in _is_problem(hub.call("POST", "/v1/projects", json={"handle": "Bad_Handle"}), 400)["errors"]


def test_duplicate_handle_is_409(hub):
    _is_problem(hub.call("POST", "/v1/projects", json={"handle": "payments"}), 409)


def test_flask_404_and_405_are_problems(hub):
    _is_problem(hub.call("GET", "/v1/nothing-here"), 404)
    body = _is_problem(hub.call("PATCH", "/v1/projects"), 405)
    assert "PATCH" in body["detail"]


def test_unexpected_exception_is_a_500_problem_without_trace(hub):
    app = hub.app

    @app.route("/boom")
    def boom():
        raise RuntimeError("internal detail hub_sk_should_not_leak")

    resp = hub.client.get("/boom")
    body = _is_problem(resp, 500)
    assert "should_not_leak" not in resp.get_data(as_text=True)
    assert body["request_id"] == resp.headers["X-Request-ID"]


def test_request_id_echoed_or_made(hub):
    resp = hub.call("GET", "/v1/projects", headers={"X-Request-ID": "trace-123"})
    assert resp.headers["X-Request-ID"] == "trace-123"
    made = hub.call("GET", "/v1/projects").headers["X-Request-ID"]
    assert made and made != "trace-123"
    # A hostile header is replaced, not echoed.
    assert hub.call("GET", "/v1/projects", headers={"X-Request-ID": "a\u00e9b c"}).headers["X-Request-ID"] != "a\u00e9b c"


def test_healthz_asks_the_database(hub):
    resp = hub.client.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}


def test_healthz_503_when_database_unreachable(make_app):
    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    _is_problem(app.test_client().get("/healthz"), 503)


def test_openapi_declares_bearer_and_docs_render_offline(hub):
    spec = hub.client.get("/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"/v1/projects", "/v1/projects/{project}", "/v1/api-keys", "/v1/api-keys/{key_id}",
            "/healthz"} <= set(spec["paths"])
    assert spec["paths"]["/healthz"]["get"]["security"] == []
    docs = hub.client.get("/docs")
    assert docs.status_code == 200 and b"/_assets/swagger-ui/" in docs.data
    assert hub.client.get("/_assets/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert hub.client.get("/redoc").status_code == 200
    assert hub.client.get("/_assets/redoc/redoc.standalone.js").status_code == 200
    assert b"cdn" not in docs.data.lower()


def test_wrong_root_key_is_a_503_not_a_crash(hub, make_app):
    import base64
    import secrets
    wrong = make_app(ROOT_KEY=base64.b64encode(secrets.token_bytes(32)).decode())
    resp = wrong.test_client().get("/v1/projects", headers={"Authorization": f"Bearer {hub.owner_secret}"})
    body = _is_problem(resp, 503)
    assert "root key" in body["detail"]
    assert wrong.config["INSTANCE_PATH"] not in resp.get_data(as_text=True)  # paths stay in the log


def test_text_no_database_can_store_is_a_400_naming_the_field(hub):
    # PostgreSQL refuses NUL in text; no backend can encode a lone surrogate.
    for bad in ("a\u0000b", "\ud800"):
        body = _is_problem(hub.call("POST", "/v1/projects", json={"handle": "ok-one", "display_name": bad}), 400)
        assert "display_name" in body["errors"]
        body = _is_problem(hub.call("POST", "/v1/projects/payments/integrations", json={
            "name": "n", "provider": "slack", "credentials": {"token": "xoxb-1"}, "tags": ["x", bad]}), 400)
        assert "tags.1" in body["errors"]
    _is_problem(hub.call("GET", "/v1/projects/payments/integrations?provider=%00"), 400)
    _is_problem(hub.call("GET", "/v1/projects/%00"), 404)
    _is_problem(hub.call("GET", "/v1/projects/%00/integrations"), 404)
    assert hub.call("GET", "/v1/projects").json["items"][0]["handle"] == "payments"


def test_timestamps_out_of_range_are_400(hub):
    for value in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-01:00"):
        body = _is_problem(hub.call("POST", "/v1/api-keys", json={"name": "t", "expires_at": value}), 400)
        assert "expires_at" in body["errors"]


def test_deeply_nested_and_oversized_bodies(hub):
    deep = "[" * 100_000 + "]" * 100_000
    _is_problem(hub.call("POST", "/v1/projects", data=deep, headers={"Content-Type": "application/json"}), 400)
    huge = {"handle": "big", "display_name": "x" * (2 * 1024 * 1024)}
    _is_problem(hub.call("POST", "/v1/projects", json=huge), 413)


def test_cursor_decoding_to_nul_is_400(hub):
    cursor = "\u0000".encode().hex()
    assert "cursor" in _is_problem(hub.call("GET", f"/v1/projects?cursor={cursor}"), 400)["errors"]


def test_request_id_kept_when_the_database_is_down(make_app):
    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    resp = app.test_client().get("/v1/projects", headers={"X-Request-ID": "trace-1"})
    assert resp.headers["X-Request-ID"] == "trace-1"
    assert _is_problem(resp, 503)["request_id"] == "trace-1"


def test_malformed_verify_settings_stop_the_hub(make_app):
    import pytest

    from hub.settings import SettingsError

    with pytest.raises(SettingsError, match="HUB_VERIFY_ALLOW_HOSTS"):
        make_app(VERIFY_ALLOW_HOSTS="localhost:8080")
    with pytest.raises(SettingsError, match="HUB_VERIFY_TIMEOUT"):
        make_app(VERIFY_TIMEOUT="soon")


def test_providers_list_has_the_list_envelope(hub):
    body = hub.call("GET", "/v1/providers").json
    assert body["next_cursor"] is None and body["has_more"] is False
