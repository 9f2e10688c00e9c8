"""Where a request's time goes: pyinstrument over the hub's side of a benchmark.

    .venv/bin/python bench/profile_requests.py get  [--requests 2000] [--all-frames]
    .venv/bin/python bench/profile_requests.py door [--requests 1500]

`get` is the authenticated `GET /v1/projects/{project}` of bench_project_get.py, `door` the
credential read of bench_audit.py; the hub is warmed up first, then profiled (sampling every
0.2 ms) and the call tree printed. Needs pyinstrument (in the `test` extra).
"""
from __future__ import annotations

import argparse
import tempfile

from floor import hub_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["get", "door"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--all-frames", action="store_true", help="show library frames too")
    args = parser.parse_args()
    from pyinstrument import Profiler

    with tempfile.TemporaryDirectory() as tmp:
        app, setup = hub_app(tmp, plugins=args.which == "door")
        client, auth = app.test_client(), {"Authorization": f"Bearer {setup.secret}"}
        path = f"/v1/projects/{setup.project.handle}"
        if args.which == "door":
            made = client.post(f"{path}/integrations", headers=auth, json={
                "name": "bench", "provider": "slack", "credentials": {"token": "xoxb-bench"}})
            path = f"{path}/integrations/{made.get_json()['id']}/credentials"
        for _ in range(200):
            assert client.get(path, headers=auth).status_code == 200
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(args.requests):
            client.get(path, headers=auth)
        profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=args.all_frames))


if __name__ == "__main__":
    main()
