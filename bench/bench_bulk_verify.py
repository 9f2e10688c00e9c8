"""`hub integrations verify --all --concurrency 32` over 1,000 integrations of one org against a
fake provider that answers every check after 200 ms: the bulk run keeps its own pool, outside
HUB_VERIFY_MAX_PER_ORG, so it takes about 1,000 x 0.2 s / 32 = 6.3 s plus the recording.

    .venv/bin/python bench/bench_bulk_verify.py [--integrations 1000] [--concurrency 32] [--delay 0.2]
"""
from __future__ import annotations

import argparse
import base64
import json
import logging
import secrets
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--integrations", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the provider takes")
    args = parser.parse_args()

    from werkzeug import Response

    from hub import bootstrap, create_app
    from hub.testing.fake_server import FakeProvider

    def slow_answer(request):
        time.sleep(args.delay)
        return Response(json.dumps({"ok": True, "team": "Acme", "team_id": "T1", "user": "bot"}),
                        content_type="application/json")

    with tempfile.TemporaryDirectory() as tmp, FakeProvider() as fake:
        fake.expect_request("/api/auth.test", method="POST").respond_with_handler(slow_answer)
        app = create_app({"INSTANCE_PATH": tmp, "PLUGINS_ENTRYPOINTS": True,
                          "ROOT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                          "VERIFY_ALLOW_HOSTS": "127.0.0.1"})
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        db = app.extensions["hub.db"]
        with app.app_context(), db.connection_context():
            setup = bootstrap.initialize(app.config, db, "acme", "payments")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {setup.secret}"}
        for n in range(args.integrations):
            made = client.post("/v1/projects/payments/integrations", headers=headers, json={
                "name": f"bulk-{n}", "provider": "slack", "credentials": {"token": "xoxb-" + "1" * 24},
                "config": {"api_base_url": fake.url_for("/api")}})
            assert made.status_code == 201, made.json
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=[
            "integrations", "verify", "--all", "--concurrency", str(args.concurrency), "--json"])
        elapsed = time.perf_counter() - started
        summary = json.loads(result.stdout)
        print(f"{summary['checked']} checks ({summary['failed']} failed) at --concurrency "
              f"{args.concurrency} against a {args.delay * 1000:.0f} ms provider: {elapsed:.2f} s "
              f"(floor {args.integrations * args.delay / args.concurrency:.2f} s); "
              f"provider calls: {len(fake.log)}")


if __name__ == "__main__":
    main()
