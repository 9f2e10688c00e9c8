"""Microseconds per row-MAC check (issue 10): what authenticating a request (the API key's MAC)
and serving or verifying an integration (its row's MAC and credentials fingerprint) add.

A real keyring on a fresh SQLite hub, a real API key and a real Slack integration as the hub
stored them; each check timed over many calls, median of several rounds.

    .venv/bin/python bench/bench_row_mac.py [--calls N] [--rounds R]
"""
from __future__ import annotations

import argparse
import base64
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub import bootstrap  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.crypto.canonical import canonical_json  # noqa: E402
from hub.integrations import integrity, store  # noqa: E402
from hub.storage.models import ApiKey, Integration, new_id  # noqa: E402
from hub.tenancy import key_integrity  # noqa: E402


def per_call(function, calls: int, rounds: int) -> tuple[float, float]:
    """(best, median) microseconds per call over the rounds: the best is the cost on a quiet
    core, the median what a busy machine gave."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            function()
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return min(samples), statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"INSTANCE_PATH": tmp, "DATABASE_URL": f"sqlite:///{Path(tmp) / 'hub.db'}",
                          "ROOT_KEY": base64.b64encode(secrets.token_bytes(32)).decode()})
        db = app.extensions["hub.db"]
        with app.app_context(), db.connection_context():
            setup = bootstrap.initialize(app.config, db, "bench", "bench")
            keyring = app.extensions["hub.keyring"].get()
            key = ApiKey.get_by_id(setup.key.id)
            row = Integration(id=new_id(), org=setup.org.id, project=setup.project.id, name="slack",
                              provider="slack", auth_type="token",
                              config={"api_base_url": "https://slack.com/api"}, tags=[],
                              status="active")
            credentials = {"token": "xoxb-" + secrets.token_hex(20)}
            store.insert(keyring, row, credentials, None, lambda: None)
            row = Integration.get_by_id(row.id)
            plaintext = canonical_json(credentials)
            results = {
                "api key MAC check (per authenticated request)":
                    per_call(lambda: key_integrity.require(keyring, key), args.calls, args.rounds),
                "integration row MAC check":
                    per_call(lambda: integrity.require(keyring, row), args.calls, args.rounds),
                "credentials fingerprint check":
                    per_call(lambda: integrity.require_fingerprint(keyring, row, plaintext),
                             args.calls, args.rounds),
                "for scale: secret hash of the bearer (already on every request)":
                    per_call(lambda: keyring.hash_api_key_secret(setup.secret), args.calls,
                             args.rounds),
            }
    print("    best   median")
    for name, (best, median) in results.items():
        print(f"{best:8.2f} {median:8.2f} us  {name}")


if __name__ == "__main__":
    main()
