"""GET /metrics (HUB_METRICS) on SQLite and PostgreSQL: off it is an unknown route; on it shows
requests by route and status with their latency, checks by provider and outcome, ciphertexts per
data key, keyring reloads and audit write failures, and never a path, a key or a token."""
import base64
import os
import subprocess
import sys
import textwrap

import peewee
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Hub
from hub import bootstrap, settings
from hub.api import metrics as metrics_api
from hub.crypto.keyring import KeyRing

TOKEN = "xoxb-1111-2222-metrics-secret-token"
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, so a check is unreachable


@pytest.fixture
def metered(make_app, migrated_database_url) -> Hub:
    """The `hub` fixture's hub, with HUB_METRICS on."""
    app = make_app(DATABASE_URL=migrated_database_url, PLUGINS_ENTRYPOINTS=True,
                   VERIFY_ALLOW_HOSTS="127.0.0.1", VERIFY_TIMEOUT=2, METRICS=True)
    metrics_api.init_app(app)  # idempotent: a no-op once hub.api.init_app calls it
    with app.app_context(), app.extensions["hub.db"].connection_context():
        setup = bootstrap.initialize(app.config, app.extensions["hub.db"], "acme", "payments")
    return Hub(app=app, client=app.test_client(), owner_secret=setup.secret, org=setup.org,
               project=setup.project)


def scrape(hub) -> str:
    resp = hub.client.get("/metrics")
    assert resp.status_code == 200, resp.data
    assert resp.mimetype == "text/plain"
    return resp.get_data(as_text=True)


def samples(text: str, name: str) -> dict[tuple, float]:
    """{sorted label items: value} of the samples called `name`."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels) -> float | None:
    return samples(text, name).get(tuple(sorted(labels.items())))


def dry_run(hub, token=TOKEN):
    return hub.call("POST", "/v1/providers/slack:verifyConfig",
                    json={"credentials": {"token": token}, "config": {"api_base_url": UNREACHABLE}})


def test_off_by_default_it_is_an_unknown_route(hub):
    metrics_api.init_app(hub.app)  # off: registers nothing
    resp = hub.client.get("/metrics")
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"
    assert resp.json["status"] == 404 and "/metrics" in resp.json["detail"]


def test_requests_checks_and_ciphertexts(metered):
    assert metered.call("GET", "/healthz", key=None).status_code == 200
    assert metered.call("GET", "/v1/projects/payments/integrations").status_code == 200
    assert metered.call("GET", "/v1/projects/payments/integrations", key=None).status_code == 401
    assert metered.call("GET", "/no/such/route/payments", key=None).status_code == 404
    before = value(scrape(metered), "hub_checks_total", provider="slack", outcome="unreachable") or 0
    result = dry_run(metered)
    assert result.status_code == 200 and result.json["error"]["code"] == "unreachable", result.json
    created = metered.call("POST", "/v1/projects/payments/integrations", json={
        "name": "alerts", "provider": "slack", "credentials": {"token": TOKEN},
        "config": {"api_base_url": UNREACHABLE}})
    assert created.status_code == 201, created.json

    text = scrape(metered)
    rule = "/v1/projects/<project>/integrations"
    assert value(text, "hub_http_requests_total", route="/healthz", method="GET", status="200") == 1
    assert value(text, "hub_http_requests_total", route=rule, method="GET", status="200") == 1
    assert value(text, "hub_http_requests_total", route=rule, method="GET", status="401") == 1
    assert value(text, "hub_http_requests_total", route=rule, method="POST", status="201") == 1
    assert value(text, "hub_http_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert value(text, "hub_http_request_duration_seconds_count", route=rule, method="GET") == 2
    assert value(text, "hub_http_request_duration_seconds_bucket", route=rule, method="GET",
                 le="+Inf") == 2
    assert 'hub_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in text
    assert value(text, "hub_checks_total", provider="slack", outcome="unreachable") >= before + 1
    assert 'hub_checks_total{outcome="unreachable",provider="slack"}' in text

    with metered.app.app_context(), metered.app.extensions["hub.db"].connection_context():
        status = metered.app.extensions["hub.keyring"].get().status()
    primary = next(row for row in status if row["state"] == "primary")
    assert primary["ciphertexts"] >= 1
    assert value(text, "hub_ciphertexts", key_id=primary["id"], state="primary") == primary["ciphertexts"]
    assert "hub_audit_write_failures_total" in text and "hub_keyring_reloads_total" in text

    # Label values are URL rules, never paths; no secret appears.
    assert "/v1/projects/payments" not in text and "/no/such" not in text
    assert metered.owner_secret not in text and TOKEN not in text and "xoxb-" not in text
    # The scrape itself is counted (from the next scrape on), without a bearer key.
    assert value(scrape(metered), "hub_http_requests_total", route="/metrics", method="GET",
                 status="200") >= 1


def test_an_odd_method_is_other(metered):
    metered.client.open("/healthz", method="BREW")
    # A 405 matched no rule either (Flask stops routing at the method).
    assert value(scrape(metered), "hub_http_requests_total", route="<unmatched>", method="other",
                 status="405") == 1


def test_init_app_is_idempotent(metered):
    metrics_api.init_app(metered.app)
    metrics_api.init_app(metered.app)
    metered.call("GET", "/healthz", key=None)
    assert value(scrape(metered), "hub_http_requests_total", route="/healthz", method="GET",
                 status="200") == 1


def test_two_apps_in_one_process_count_apart(metered, make_app):
    other = make_app(METRICS=True)  # the same database
    metrics_api.init_app(other)
    metered.call("GET", "/healthz", key=None)
    metered.call("GET", "/healthz", key=None)
    other.test_client().get("/healthz")
    assert value(scrape(metered), "hub_http_requests_total", route="/healthz", method="GET",
                 status="200") == 2
    assert value(other.test_client().get("/metrics").get_data(as_text=True),
                 "hub_http_requests_total", route="/healthz", method="GET", status="200") == 1


def test_a_keyring_reload_is_counted(metered, root_key_b64):
    app = metered.app
    with app.app_context(), app.extensions["hub.db"].connection_context():
        keyring = app.extensions["hub.keyring"].get()
        KeyRing.load(base64.b64decode(root_key_b64)).rotate()  # as another process would
    before = value(scrape(metered), "hub_keyring_reloads_total")  # (the rotating one reloaded)
    with app.app_context(), app.extensions["hub.db"].connection_context():
        keyring.seal(b"x", b"ad")  # follows the new primary: reloads
        keyring.seal(b"x", b"ad")  # has it now
    assert value(scrape(metered), "hub_keyring_reloads_total") == before + 1


def test_an_audit_write_failure_is_counted(metered, monkeypatch):
    from hub.audit import log as audit_log

    before = value(scrape(metered), "hub_audit_write_failures_total")

    def broken(org_id):
        raise peewee.OperationalError("disk I/O error")

    monkeypatch.setattr(audit_log, "_locked_head", broken)
    resp = metered.call("POST", "/v1/projects", json={"handle": "billing"})
    assert resp.status_code == 503, resp.json
    monkeypatch.undo()
    text = scrape(metered)
    assert value(text, "hub_audit_write_failures_total") == before + 1
    assert value(text, "hub_http_requests_total", route="/v1/projects", method="POST",
                 status="503") == 1


@pytest.mark.parametrize("given, expected", [
    (None, False), (False, False), (True, True), (0, False), (1, True), ("", False),
    ("true", True), ("ON", True), ("no", False), (" 1 ", True)])
def test_the_setting(given, expected):
    assert settings.metrics_on({"METRICS": given}) is expected
    assert settings.problems({"METRICS": given}) is None


@pytest.mark.parametrize("given", ["maybe", 2, [1]])
def test_a_malformed_setting_is_refused(given):
    assert "HUB_METRICS" in settings.problems({"METRICS": given})


def test_multiprocess_mode_sums_the_workers(tmp_path):
    """Two processes with PROMETHEUS_MULTIPROC_DIR (on SQLite: the files are what is tested): a
    scrape in the second counts the first's requests too."""
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    db = tmp_path / "mp.db"
    script = textwrap.dedent(f"""
        import base64, sys
        from hub.app import create_app
        from hub.api import metrics as metrics_api
        from hub import bootstrap
        key = base64.b64encode(b"k" * 32).decode()
        app = create_app({{"INSTANCE_PATH": {str(tmp_path / 'instance')!r}, "TESTING": True,
                          "DATABASE_URL": {f'sqlite:///{db}'!r}, "ROOT_KEY": key,
                          "PLUGINS_ENTRYPOINTS": False, "METRICS": True}})
        metrics_api.init_app(app)
        if sys.argv[1] == "init":
            from hub.storage import migrate
            migrate.upgrade(app.extensions["hub.db"])
            with app.app_context(), app.extensions["hub.db"].connection_context():
                bootstrap.initialize(app.config, app.extensions["hub.db"], "acme", "payments")
        client = app.test_client()
        for _ in range(int(sys.argv[2])):
            assert client.get("/healthz").status_code == 200
        if sys.argv[1] == "scrape":
            sys.stdout.write(client.get("/metrics").get_data(as_text=True))
    """)
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    run = [sys.executable, "-c", script]
    subprocess.run(run + ["init", "2"], env=env, check=True, capture_output=True, timeout=60)
    out = subprocess.run(run + ["scrape", "3"], env=env, check=True, capture_output=True,
                         text=True, timeout=60).stdout
    assert value(out, "hub_http_requests_total", route="/healthz", method="GET", status="200") == 5
    assert value(out, "hub_http_request_duration_seconds_count", route="/healthz", method="GET") == 5
    assert 'hub_ciphertexts{key_id="dk_' in out and 'state="primary"' in out

    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "missing")
    refused = subprocess.run(run + ["scrape", "0"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode != 0 and "PROMETHEUS_MULTIPROC_DIR" in refused.stderr
