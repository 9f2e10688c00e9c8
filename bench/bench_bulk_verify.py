"""`hub integrations verify --all --concurrency 32` on 1,000 integrations against a loopback fake
provider that answers every check after 200 ms, compared with the physical limit of that run:
N / concurrency x latency (1,000 / 32 x 0.2 s = 6.25 s). Goal: elapsed <= 1.2 x the limit.

The fake is a threaded HTTP server (a thread per connection, a listen backlog of 128) in its own
process, mimicking Slack's `auth.test`; the hub reaches it because HUB_VERIFY_ALLOW_HOSTS lets 127.0.0.1 through its
egress policy. The integrations are created through the API; the run is the real CLI command,
invoked in process, each check recorded on its row and audited.

    .venv/bin/python bench/bench_bulk_verify.py [--count 1000] [--concurrency 32] [--latency 0.2]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

from floor import Result, hub_app


class _SlowSlack(BaseHTTPRequestHandler):
    latency = 0.2

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        time.sleep(self.latency)
        body = json.dumps({"ok": True, "team": "Bench", "team_id": "T1", "user_id": "U1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 32 at once must not wait in a backlog of 5


def serve_fake(latency: float) -> None:
    """In the fake's own process: serve until stdin closes, having printed the port."""
    handler = type("Handler", (_SlowSlack,), {"latency": latency})
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # the parent closes it (or exits) when done
    server.shutdown()


@contextlib.contextmanager
def fake_provider(latency: float) -> Iterator[str]:
    """A fake Slack on 127.0.0.1 answering after `latency` seconds, in its own process (its threads
    must not take the hub's GIL: a provider is elsewhere); yields its API base URL."""
    proc = subprocess.Popen([sys.executable, __file__, "--serve-fake", str(latency)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/api"
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(count: int = 1000, concurrency: int = 32, latency: float = 0.2) -> Result:
    with tempfile.TemporaryDirectory() as tmp, fake_provider(latency) as base_url:
        app, setup = hub_app(tmp, VERIFY_ALLOW_HOSTS="127.0.0.1", VERIFY_TIMEOUT=10)
        client, auth = app.test_client(), {"Authorization": f"Bearer {setup.secret}"}
        for i in range(count):
            made = client.post("/v1/projects/bench-project/integrations", headers=auth, json={
                "name": f"verify-{i}", "provider": "slack", "credentials": {"token": f"xoxb-bench-{i}"},
                "config": {"api_base_url": base_url}})
            assert made.status_code == 201, made.get_json()
        started = time.perf_counter()
        run = app.test_cli_runner().invoke(args=["integrations", "verify", "--all", "--concurrency",
                                                 str(concurrency), "--restart", "--json"])
        elapsed = time.perf_counter() - started
        assert run.exit_code == 0, run.output + (run.stderr if run.stderr_bytes is not None else "")
        summary = json.loads(run.stdout)
        assert summary["checked"] == count and summary["failed"] == 0, summary
    limit = count / concurrency * latency
    return Result("bulk_verify", f"Bulk verify of {count:,} at concurrency {concurrency} "
                                 f"({latency * 1000:.0f} ms fake)", "s",
                  "physical limit N / concurrency x latency", limit, elapsed, elapsed / limit, "<= 1.2",
                  rows=[("checked", f"{summary['checked']:,}, {summary['failed']} failed, in {elapsed:.2f} s "
                                    f"= {count / elapsed:.0f} checks/s")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the fake takes per check")
    parser.add_argument("--serve-fake", type=float, metavar="LATENCY", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake is not None:
        return serve_fake(args.serve_fake)
    result = measure(args.count, args.concurrency, args.latency)
    print(f"physical limit: {result.floor:.2f} s; hub: {result.hub:.2f} s; "
          f"ratio {result.ratio:.2f} (goal {result.goal})")


if __name__ == "__main__":
    main()
