"""Checks that API requests start run in a bounded pool apart from the request threads, at most
HUB_VERIFY_MAX_PER_ORG (4) at once per org across every process on the database; a check that
cannot start within a second is a 429 with Retry-After; one org's hung checks never hold up
another org's requests. Real servers on loopback: the hub under waitress with 8 request threads
(as `hub serve`), a provider address that accepts connections and never answers. Assertions are
on the order of events, never on durations.
"""
from __future__ import annotations

import concurrent.futures
import datetime
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
import waitress
from marshmallow import Schema, fields
from werkzeug import Response

from hub import bootstrap, hookimpl
from hub.errors import RateLimited, SettingsError, Unavailable
from hub.sdk import AuthMethod, Provider, VerificationResult
from hub.storage.models import VerifySlot, utcnow
from hub.testing.fake_server import FakeProvider
from hub.verification.pool import CheckPool

SLACK_TOKEN = "xoxb-" + "1" * 24
GUARD = 30  # seconds a test waits for something that should happen at once (a hang guard only)


class SilentProvider:
    """A TCP server that accepts connections and never answers, until `release()` closes them."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.accepted: list[socket.socket] = []
        self.changed = threading.Condition()
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self):
        self.listener.settimeout(0.05)
        while not self._stop:
            try:
                conn = self.listener.accept()[0]
            except OSError:
                continue
            with self.changed:
                self.accepted.append(conn)
                self.changed.notify_all()

    def wait_for(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.accepted) >= count, GUARD), \
                f"{len(self.accepted)} connections, not {count}"

    def release(self):
        with self.changed:
            for conn in self.accepted:
                conn.close()

    def close(self):
        self._stop = True
        self.thread.join()
        self.release()
        self.listener.close()


@pytest.fixture
def silent():
    server = SilentProvider()
    yield server
    server.close()


class Stuck:
    """A provider whose check blocks (no HTTP at all) until `go` is set: only the pool's wait
    bounds the request."""

    def __init__(self):
        self.go = threading.Event()
        self.entered = threading.Semaphore(0)

        class Credentials(Schema):
            token = fields.String(required=True)

        def verify(auth_type, credentials, config, http):
            self.entered.release()
            self.go.wait(GUARD)
            return VerificationResult.success(identity={"user": "late"})

        self.provider = Provider(name="stuck", display_name="Stuck", description="", version="1",
                                 auth_methods=(AuthMethod("token", "Token", Credentials, default=True),),
                                 config_schema=Schema, verify=verify, package="hub-stuck")

        @hookimpl
        def hub_register_providers(register):
            register(self.provider)

        self.plugin = type("Plugin", (), {"hub_register_providers": staticmethod(hub_register_providers)})


class Served:
    """An app served by waitress (8 request threads, as `hub serve`) on 127.0.0.1."""

    def __init__(self, app, threads=8):
        self.app = app
        self.server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
        self.base = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def call(self, method, path, secret, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=GUARD * 2) as resp:
                return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), json.loads(err.read() or b"null")

    def close(self):
        self.server.task_dispatcher.shutdown()
        self.server.close()


def _app(make_app, url, **settings):
    return make_app(DATABASE_URL=url, PLUGINS_ENTRYPOINTS=True, VERIFY_ALLOW_HOSTS="127.0.0.1",
                    VERIFY_TIMEOUT=60, **settings)


def _orgs(app):
    """Org A (acme, with project payments) and org B, with their owner secrets."""
    db = app.extensions["hub.db"]
    with app.app_context(), db.connection_context():
        a = bootstrap.initialize(app.config, db, "acme", "payments")
        b = bootstrap.ensure_org(app.extensions["hub.keyring"].get(), "bravo", "web")
    return (a.org, a.secret), (b.org, b.secret)


@pytest.fixture
def served(make_app, migrated_database_url):
    app = _app(make_app, migrated_database_url)
    org_a, org_b = _orgs(app)
    server = Served(app)
    yield server, org_a, org_b
    server.close()


def _dry_run_body(url):
    return {"credentials": {"token": SLACK_TOKEN}, "config": {"api_base_url": url}}


DRY_RUN = "/v1/providers/slack:verifyConfig"


def _is_rate_limited(status, headers, body):
    return (status == 429 and headers["Content-Type"] == "application/problem+json"
            and headers["Retry-After"].isdigit() and int(headers["Retry-After"]) >= 1
            and body["retry_after"] == int(headers["Retry-After"]) and body["status"] == 429
            and "HUB_VERIFY_MAX_PER_ORG" in body["detail"])


def test_one_orgs_hung_checks_never_hold_up_another_orgs_requests(served, silent):
    """The finding: 8 parallel dry runs of org A against a server that accepts and never answers
    kept org B's GET /v1/projects waiting for their whole timeout. Now 4 run in the pool, 4 are
    refused within a second, and B is answered while the 4 still hang."""
    server, (org_a, secret_a), (_org_b, secret_b) = served
    events: list[tuple[str, int]] = []
    lock = threading.Lock()

    def dry_run():
        answer = server.call("POST", DRY_RUN, secret_a, _dry_run_body(silent.url))
        with lock:
            events.append(("A", answer[0]))
        return answer

    with concurrent.futures.ThreadPoolExecutor(8) as clients:
        runs = [clients.submit(dry_run) for _ in range(8)]
        silent.wait_for(4)  # four checks are calling the silent provider

        status, _, projects = server.call("GET", "/v1/projects", secret_b)
        with lock:
            events.append(("B", status))
        assert status == 200 and [p["handle"] for p in projects["items"]] == ["web"]

        # The four that found no place are refused, without a provider call.
        _wait_until(lambda: sum(f.done() for f in runs) >= 4)
        refused = [f.result() for f in runs if f.done()]
        assert len(refused) == 4 and all(_is_rate_limited(*answer) for answer in refused)
        assert len(silent.accepted) == 4  # never more than 4 of the org's checks at once
        assert server.app.extensions["hub.check_pool"].running(org_a.id) == 4

        silent.release()  # the provider hangs up: the four checks end (unreachable)
        answers = [f.result(GUARD) for f in runs]

    ran = [body for status, _, body in answers if status == 200]
    assert len(ran) == 4 and all(body["error"]["code"] == "unreachable" for body in ran)
    # B was answered while A's checks hung: before any of them ended.
    first_a_result = next(i for i, event in enumerate(events) if event == ("A", 200))
    assert events.index(("B", 200)) < first_a_result
    # The places came free when the checks ended, in this process and in the database.
    pool = server.app.extensions["hub.check_pool"]
    assert pool.running(org_a.id) == 0
    assert pool.leases.live(org_a.id) == 0


def test_a_fifth_check_is_429_while_another_orgs_check_runs_and_places_come_free(served, silent,
                                                                                 httpserver):
    server, (org_a, secret_a), (org_b, secret_b) = served
    httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(
        {"ok": True, "team": "Acme", "team_id": "T1", "user": "bot", "user_id": "U1"})
    fast = httpserver.url_for("/api")

    with concurrent.futures.ThreadPoolExecutor(4) as clients:
        hung = [clients.submit(server.call, "POST", DRY_RUN, secret_a, _dry_run_body(silent.url))
                for _ in range(4)]
        silent.wait_for(4)

        fifth = server.call("POST", DRY_RUN, secret_a, _dry_run_body(fast))
        assert _is_rate_limited(*fifth), fifth
        assert not httpserver.log  # the refused check never called the provider

        # The bound is per org: B's check runs while A's places are all taken.
        status, _, other = server.call("POST", DRY_RUN, secret_b, _dry_run_body(fast))
        assert status == 200 and other["ok"] is True and other["identity"]["user"] == "bot"
        assert all(not f.done() for f in hung)  # A's four still hang meanwhile

        silent.release()
        assert all(f.result(GUARD)[0] == 200 for f in hung)

    # Freed: A checks again at once.
    status, _, again = server.call("POST", DRY_RUN, secret_a, _dry_run_body(fast))
    assert status == 200 and again["ok"] is True
    assert server.app.extensions["hub.check_pool"].leases.live(org_a.id) == 0


def test_the_timeout_bounds_the_request_even_if_the_check_does_not_end(make_app,
                                                                        migrated_database_url):
    """A check that blocks without calling out (no egress deadline can end it): the request is
    answered `timeout` after HUB_VERIFY_TIMEOUT plus a margin, while the check still runs and
    keeps its place; the place comes free when the check ends."""
    stuck = Stuck()
    app = make_app(DATABASE_URL=migrated_database_url, EXTRA_PLUGINS=[stuck.plugin],
                   VERIFY_TIMEOUT=1)
    (org, secret), _ = _orgs(app)
    client = app.test_client()
    pool = app.extensions["hub.check_pool"]
    try:
        answered = client.post("/v1/providers/stuck:verifyConfig", json={"credentials": {"token": "t"}},
                               headers={"Authorization": f"Bearer {secret}"})
        assert answered.status_code == 200, answered.json
        assert answered.json["ok"] is False and answered.json["error"]["code"] == "timeout"
        assert not stuck.go.is_set()  # answered while the check was still blocked
        assert pool.running(org.id) == 1 and pool.leases.live(org.id) == 1
    finally:
        stuck.go.set()
    _wait_until(lambda: pool.running(org.id) == 0)
    assert pool.leases.live(org.id) == 0


def test_two_apps_on_one_database_share_the_per_org_bound(make_app, migrated_database_url, silent):
    """Two hubs (two processes, or machines) on one database: 2 checks of org A in each take
    the org's 4 places; a fifth in either is refused, though each runs only 2 itself."""
    first = _app(make_app, migrated_database_url)
    (org, secret), _ = _orgs(first)
    second = _app(make_app, migrated_database_url)
    clients = {app: app.test_client() for app in (first, second)}

    def dry_run(app):
        return clients[app].post(DRY_RUN, json=_dry_run_body(silent.url),
                                 headers={"Authorization": f"Bearer {secret}"})

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        hung = [pool.submit(dry_run, app) for app in (first, second, first, second)]
        silent.wait_for(4)
        for app in (first, second):
            assert app.extensions["hub.check_pool"].running(org.id) == 2
            refused = dry_run(app)
            assert refused.status_code == 429, refused.json
            assert refused.headers["Retry-After"].isdigit()
            assert "on this hub's servers" in refused.json["detail"]
        assert first.extensions["hub.check_pool"].leases.live(org.id) == 4
        silent.release()
        assert [f.result(GUARD).status_code for f in hung] == [200] * 4
    assert second.extensions["hub.check_pool"].leases.live(org.id) == 0


def test_places_of_a_process_that_died_come_free_when_their_leases_expire(hub, httpserver):
    """Leases left by a process that died: live ones still count, expired ones are taken over."""
    httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(
        {"ok": True, "team": "Acme", "team_id": "T1", "user": "bot", "user_id": "U1"})
    body = _dry_run_body(httpserver.url_for("/api"))
    now = utcnow()

    def left_behind(expires_at):
        with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
            VerifySlot.delete().execute()
            VerifySlot.insert_many([{"org_id": hub.org.id, "slot": slot, "holder": f"dead-{slot}",
                                     "expires_at": expires_at} for slot in range(4)]).execute()

    left_behind(now + datetime.timedelta(minutes=5))
    refused = hub.call("POST", DRY_RUN, json=body)
    assert refused.status_code == 429 and refused.headers["Retry-After"].isdigit()

    left_behind(now - datetime.timedelta(seconds=1))
    taken_over = hub.call("POST", DRY_RUN, json=body)
    assert taken_over.status_code == 200 and taken_over.json["ok"] is True
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        holders = sorted(row.holder for row in VerifySlot.select())
    assert holders == ["dead-1", "dead-2", "dead-3"]  # slot 0 was taken over, then given back


def test_the_bulk_cli_is_not_bound_per_org(hub):
    """`hub integrations verify` runs its own pool (--concurrency): it takes no per-org place, so
    6 of one org's checks call the provider at once (the fake answers none until all 6 have)."""
    together = threading.Barrier(6, timeout=GUARD)

    def answer(request):
        together.wait()
        return Response(json.dumps({"ok": True, "team": "Acme", "team_id": "T1", "user": "bot"}),
                        content_type="application/json")

    with FakeProvider() as fake:
        fake.expect_request("/api/auth.test", method="POST").respond_with_handler(answer)
        for n in range(6):
            made = hub.call("POST", "/v1/projects/payments/integrations", json={
                "name": f"bulk-{n}", "provider": "slack", "credentials": {"token": SLACK_TOKEN},
                "config": {"api_base_url": fake.url_for("/api")}})
            assert made.status_code == 201, made.json
        result = hub.app.test_cli_runner().invoke(
            args=["integrations", "verify", "--all", "--concurrency", "6", "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    summary = json.loads(result.stdout)
    assert summary["checked"] == 6 and summary["failed"] == 0


def _wait_until(condition):
    deadline = time.monotonic() + GUARD
    while not condition():
        assert time.monotonic() < deadline, "did not happen"
        time.sleep(0.01)


def test_every_route_that_runs_a_check_goes_through_the_pool(hub, httpserver):
    """While the org's places are all taken (leases another process holds), the dry run, both
    stored checks, a proposed check and create's ?verify=true are 429 and store nothing; another
    org is not affected."""
    httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(
        {"ok": True, "team": "Acme", "team_id": "T1", "user": "bot", "user_id": "U1"})
    body = _dry_run_body(httpserver.url_for("/api"))
    made = hub.call("POST", "/v1/projects/payments/integrations",
                    json={"name": "alerts", "provider": "slack", **body})
    shared = hub.call("POST", "/v1/integrations",
                      json={"name": "shared", "provider": "slack", "is_global": True, **body})
    assert made.status_code == 201 and shared.status_code == 201, (made.json, shared.json)
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        VerifySlot.insert_many([{"org_id": hub.org.id, "slot": slot, "holder": f"other-{slot}",
                                 "expires_at": utcnow() + datetime.timedelta(minutes=5)}
                                for slot in range(4)]).execute()

    calls = [("POST", DRY_RUN, body),
             ("POST", f"/v1/projects/payments/integrations/{made.json['id']}:verifyConfig", None),
             ("POST", f"/v1/projects/payments/integrations/{made.json['id']}:verifyConfig",
              {"config": body["config"]}),
             ("POST", f"/v1/integrations/{shared.json['id']}:verifyConfig", None),
             ("POST", "/v1/projects/payments/integrations?verify=true",
              {"name": "checked", "provider": "slack", **body})]
    for method, path, json_body in calls:
        refused = hub.call(method, path, json=json_body)
        assert refused.status_code == 429, (path, refused.json)
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) == refused.json["retry_after"] >= 1
    assert not httpserver.log  # no provider was called
    names = [i["name"] for i in hub.call("GET", "/v1/projects/payments/integrations").json["items"]]
    assert names == ["alerts"]
    assert hub.call("GET", f"/v1/projects/payments/integrations/{made.json['id']}"
                    ).json["last_verification"] is None

    _, other_secret = hub.make_org("other", "site")
    other = hub.call("POST", DRY_RUN, key=other_secret, json=body)
    assert other.status_code == 200 and other.json["ok"] is True


@pytest.mark.parametrize("settings, named", [
    ({"VERIFY_TIMEOUT": 0.5}, "HUB_VERIFY_TIMEOUT"),
    ({"VERIFY_TIMEOUT": 61}, "HUB_VERIFY_TIMEOUT"),
    ({"VERIFY_TIMEOUT": "soon"}, "HUB_VERIFY_TIMEOUT"),
    ({"VERIFY_MAX_PER_ORG": 0}, "HUB_VERIFY_MAX_PER_ORG"),
    ({"VERIFY_MAX_PER_ORG": 65}, "HUB_VERIFY_MAX_PER_ORG"),
    ({"VERIFY_MAX_PER_ORG": "four"}, "HUB_VERIFY_MAX_PER_ORG"),
    ({"VERIFY_POOL_SIZE": 0}, "HUB_VERIFY_POOL_SIZE"),
    ({"VERIFY_POOL_SIZE": 1000}, "HUB_VERIFY_POOL_SIZE"),
])
def test_check_settings_out_of_range_stop_the_hub_naming_the_setting(make_app, settings, named):
    with pytest.raises(SettingsError, match=named):
        make_app(**settings)


def test_check_settings_in_range_are_used(make_app):
    app = make_app(VERIFY_TIMEOUT="60", VERIFY_MAX_PER_ORG="2", VERIFY_POOL_SIZE=3)
    pool = app.extensions["hub.check_pool"]
    assert (pool.timeout, pool.max_per_org, pool.size, pool.leases.places) == (60, 2, 3, 2)


def test_beyond_max_per_org_waiting_requests_are_refused_at_once():
    """The pool itself, with real threads: one place, one check holding it, one request waiting
    (for as long as it may): a third is refused while the second still waits, so an org's burst
    holds at most 2 x HUB_VERIFY_MAX_PER_ORG request threads. The waiter then gets the place."""
    pool = CheckPool(size=4, max_per_org=1, timeout=GUARD, start_wait=GUARD)
    go = threading.Event()

    def held():
        go.wait(GUARD)
        return {"ok": True}

    with concurrent.futures.ThreadPoolExecutor(2) as requests:
        first = requests.submit(pool.run, "org-a", held)
        _wait_until(lambda: pool.running("org-a") == 1)
        second = requests.submit(pool.run, "org-a", lambda: {"ok": "second"})
        _wait_until(lambda: pool.waiting("org-a") == 1)
        with pytest.raises(RateLimited) as refused:
            pool.run("org-a", lambda: {"ok": "third"})
        assert refused.value.retry_after >= 1 and not second.done()
        assert pool.run("org-b", lambda: {"ok": "other org"}) == {"ok": "other org"}
        go.set()
        assert first.result(GUARD) == {"ok": True}
        assert second.result(GUARD) == {"ok": "second"}
    assert pool.running("org-a") == 0 and pool.waiting("org-a") == 0


def test_a_check_that_cannot_be_handed_to_the_pool_gives_its_places_back(hub):
    """The executor refuses new work (as at interpreter shutdown): the request is refused and
    the org's place, the pool thread and the database lease all come free again."""
    pool = hub.app.extensions["hub.check_pool"]
    pool._executor.shutdown()  # what interpreter shutdown does to every executor
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        with pytest.raises(Unavailable):
            pool.run(hub.org.id, lambda: {"ok": True})
        assert pool.leases.live(hub.org.id) == 0
    assert pool.running(hub.org.id) == 0 and pool.waiting(hub.org.id) == 0
    # Every pool thread is free again: all `size` of them can be taken at once.
    assert all(pool._idle.acquire(blocking=False) for _ in range(pool.size))
