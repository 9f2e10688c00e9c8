"""One refresh across processes: `hub serve --workers 2` on PostgreSQL, 20 clients reading a due
OAuth token at once through both workers, against the fake Atlassian server: exactly one refresh
grant reaches the provider and every client gets the same new token (the row lock is the
database's, so it holds between processes, where an in-process lock would not)."""
import concurrent.futures
import json
import subprocess
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from hub.testing.fake_oauth import FakeOAuthServer
from tests.test_workers import BACKENDS, HUB, _Client, _env, _free_port, _hub, _problems

pytestmark = pytest.mark.skipif("postgres" not in BACKENDS, reason="needs the PostgreSQL server")
PROJECT = "/v1/projects/default"


@pytest.mark.parametrize("backend", ["postgres"])
def test_twenty_reads_across_two_workers_cause_one_refresh(tmp_path, database_url):
    port = _free_port()
    env = _env(tmp_path, database_url) | {"HUB_VERIFY_ALLOW_HOSTS": "127.0.0.1",
                                          "HUB_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    secret = json.loads(_hub(["init", "--json"], env).stdout)["secret"]
    log_path = tmp_path / "serve.log"
    with FakeOAuthServer("atlassian", access_ttl=30) as server, open(log_path, "w") as log:
        proc = subprocess.Popen([HUB, "serve", "--workers", "2", "--threads", "10", "--port",
                                 str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            client = _Client(f"http://127.0.0.1:{port}", secret)
            _wait_for_workers(proc, client, log_path)
            status, _ = client.call("POST", "/v1/oauth-apps", {
                "provider": "jira", "name": "main", "client_id": "cid", "client_secret": "csecret",
                "authorize_url": server.authorize_url, "token_url": server.token_url,
                "api_base_url": server.api_base_url})
            assert status == 201
            status, started = client.call("POST", f"{PROJECT}/integrations:connect",
                                          {"provider": "jira", "name": "site", "oauth_app": "main"})
            assert status == 201, started
            location = urlsplit(server.consent(started["authorize_url"]))
            with urllib.request.urlopen(f"{client.base}{location.path}?{location.query}",
                                        timeout=30) as page:
                assert page.status == 200 and b"is connected" in page.read()
            status, listed = client.call("GET", f"{PROJECT}/integrations?provider=jira")
            integration_id = listed["items"][0]["id"]

            server.slow_token_endpoint(0.5)  # the refresh is under way while all 20 arrive
            # The connection's token lives 30 s (due for the default min_valid of 60); refreshed
            # ones live an hour, so a reader that comes after the refresh has nothing to refresh.
            server.access_ttl = 3600
            barrier = threading.Barrier(20)

            def read(_):
                barrier.wait()
                return client.call("GET", f"{PROJECT}/integrations/{integration_id}/credentials")

            with concurrent.futures.ThreadPoolExecutor(20) as pool:
                results = list(pool.map(read, range(20)))
            assert [s for s, _ in results] == [200] * 20, (results, _problems(log_path))
            tokens = {body["credentials"]["access_token"] for _, body in results}
            assert len(tokens) == 1 and tokens <= server.valid_access_tokens
            assert server.refresh_grants == 1
            assert [g["grant_type"] for g in server.grants] == ["authorization_code", "refresh_token"]
            status, audit = client.call("GET", f"{PROJECT}/audit-events?action=integration.refresh")
            assert [e["outcome"] for e in audit["items"]] == ["success"]
        finally:
            proc.terminate()
            proc.wait(timeout=15)
        logged = log_path.read_text()
    for token in server.issued_access_tokens | server.issued_refresh_tokens:
        assert token not in logged


def _wait_for_workers(proc, client, log_path):
    deadline = time.monotonic() + 15
    while log_path.read_text().count("Booting worker") < 2:
        assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.05)
    while True:
        try:
            if client.call("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.05)
