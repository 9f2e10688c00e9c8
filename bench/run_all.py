"""Run every benchmark, print its figures and ratios, and write docs/benchmarks.md with the
machine they ran on and each goal met or missed.

    .venv/bin/python bench/run_all.py            # full sizes (1M rows seeded twice: minutes)
    .venv/bin/python bench/run_all.py --quick    # tiny sizes: a smoke run, figures meaningless
    .venv/bin/python bench/run_all.py --only project_get,door --output /tmp/b.md

Every figure is measured in this one process, the hub's and its floor's in alternating rounds,
so a load that comes and goes slows both sides alike; the ratios are what compares across
machines, the absolute rates are this machine's.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_audit  # noqa: E402 (beside this script)
import bench_bulk_verify  # noqa: E402
import bench_create  # noqa: E402
import bench_integration_list  # noqa: E402
import bench_project_get  # noqa: E402
import bench_rewrap  # noqa: E402
from floor import Result  # noqa: E402

DOCUMENT = HERE.parent / "docs" / "benchmarks.md"

# key -> (script, how to run it at full and quick size)
BENCHES: dict[str, tuple[str, Callable[[bool], Result]]] = {
    "project_get": ("bench_project_get.py", lambda quick: bench_project_get.measure(
        *((60, 2) if quick else (1000, 5)))),
    "create": ("bench_create.py", lambda quick: bench_create.measure(*((20, 2) if quick else (300, 5)))),
    "integration_list": ("bench_integration_list.py", lambda quick: bench_integration_list.measure(
        *((200, 400, 5, 2) if quick else (1000, 1_000_000, 100, 5)))),
    "door": ("bench_audit.py", lambda quick: bench_audit.door(*((30, 2) if quick else (500, 5)))),
    "audit_paging": ("bench_audit.py", lambda quick: bench_audit.paging(
        *((200, 400, 5, 2) if quick else (1000, 1_000_000, 100, 5)))),
    "rewrap": ("bench_rewrap.py", lambda quick: bench_rewrap.measure(500 if quick else 100_000)),
    "bulk_verify": ("bench_bulk_verify.py", lambda quick: bench_bulk_verify.measure(
        *((64, 32, 0.2) if quick else (1000, 32, 0.2)))),
}

# What each figure measures, and where its time goes (from profiles: bench/profile_requests.py).
NOTES: dict[str, str] = {
    "project_get": """\
The hub authenticates the bearer key (BLAKE2b of the secret, one indexed lookup), finds the project
by handle (one indexed lookup) and dumps it through its marshmallow schema; the floor reads one
row by primary key and returns it with `jsonify`, with no auth, no hooks and no schema. Both hold
a SQLite connection per thread across requests, as `hub serve` (waitress's long-lived threads)
does: before that change every request paid five per-connection pragmas and a WAL checkpoint on
close (hub 623 req/s, floor 929, 0.67x); the two prepared lookups now build their model row from a
column plan cached per database instead of peewee's cursor wrapper (peewee re-resolved the
result's columns on every query: as much time as the SQLite lookup).

Where the hub's time goes (pyinstrument, 2,000 requests, share of the hub's request time; the
floor's whole request costs about 45% of the hub's): WSGI test client and Flask's own request
handling, which the floor pays too, about 45%; `authenticate` 15% (its SQL 6%, BLAKE2b 2%, token
checksum 1.5%, two `dataclasses.replace` 3%); `find_project` 5%; werkzeug routing over the hub's
URL map 3% (the floor's map has one rule); schema dump 4% (`Timestamp.serialize` 3.5%); the hub's
before/after-request hooks 9% (`refuse_unstorable_text` 4%, request id 2%, access log 2%,
metrics). These live in `hub/api` (context, input_guard, access_log, fields) and
`hub/tenancy/api_keys.py`, outside the database layer.""",
    "create": """\
No goal. The hub validates the body against Slack's schema, seals the credentials, inserts the
row and its tags and appends `integration.create` to the org's audit chain (the head row read and
updated under the write lock), all in one transaction; the floor parses the body and inserts one
row.""",
    "integration_list": """\
Seeded in bulk: one INSERT statement per 20,000 rows (executemany) in a single transaction, each
row a copy of one created through the API under a new id and name. A page is one index range on
(project, id), so its cost does not grow with the project: most of a page's time is dumping its
50 records through the schema.""",
    "door": """\
`GET /v1/projects/{p}/integrations/{id}/credentials`: auth, project, the integration row, decrypt,
an audit event appended to the org's chain under its head lock (head read, event hash, insert, head
update), committed; the floor reads a row by primary key, decrypts it (XChaCha20-Poly1305),
inserts one row and commits. Before connections were held across requests both sides paid a WAL
checkpoint per request (floor 385 req/s, hub 236, 0.61x); holding them made the floor 7x faster
and the hub 4x, so the ratio now shows the hub's Python work.

Where the hub's time goes (pyinstrument, 1,500 requests, share of the hub's request time): the
audit append 18% (building the event row and its canonical-JSON hash 8%, the insert 4%, the head
read 3%), the COMMIT 6% (the floor pays it too), `authenticate` 10%, the integration lookup 6%,
the project lookup 3.5%, decrypt 3%; the before/after-request hooks 9% and routing over the hub's
URL map 3.5%. None of it is one hot spot: the hub runs six statements and two hashes where the floor
runs three statements, each costing Python around it.""",
    "audit_paging": """\
The org's chain filled in bulk (their hashes not a valid chain: paging never reads them). A page
is one index range in `seq` order ((project, seq) or (project, action, seq)).""",
    "rewrap": """\
`hub crypto rewrap`'s loop on sealed rows (half integration credentials, half secret versions),
batch size 1,000: decrypt under the old data key, seal under the new primary, one conditional
UPDATE statement per batch; then every record is checked to open under the new key.""",
    "bulk_verify": """\
The real `hub integrations verify --all --concurrency 32` (in process, through the CLI runner)
against a threaded fake Slack on loopback that answers every `auth.test` after 200 ms. Each check
opens the credentials, calls the fake through the egress client, records the result on the row
and appends `integration.verify` to the audit chain. The physical limit assumes every thread is
always waiting on the fake; what exceeds it is the hub's own work per check (SQLite serialises the
32 threads' writes: each records its result under the database's single write lock).""",
}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def postgres_version() -> str:
    """The PostgreSQL server's version (HUB_TEST_PG or 127.0.0.1:5432), else the client's."""
    dsn = os.environ.get("HUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432") + "/postgres"
    try:
        import psycopg2

        with psycopg2.connect(dsn, connect_timeout=2) as conn, conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"{cursor.fetchone()[0]} (server at {dsn.split('@')[-1].rsplit('/', 1)[0]}; " \
                   "no figure here runs on it)"
    except Exception:  # noqa: BLE001 - any failure: say what the client is instead
        try:
            out = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=5)
            return f"{out.stdout.strip() or 'unknown'} (client; no server reachable)"
        except OSError:
            return "not installed"


def machine() -> list[tuple[str, str]]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", cpu_model()),
        ("cores", str(os.cpu_count())),
        ("RAM", ram()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", postgres_version()),
        ("load average at start", ", ".join(f"{x:.2f}" for x in load) if load else "unknown"),
    ]


def _figure(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.0f} {unit}"


def _verdict(result: Result) -> str:
    return {None: "no goal", True: "met", False: "**missed**"}[result.met]


def _goal(result: Result) -> str:
    return result.goal_text or (f"ratio {result.goal}" if result.goal else "-")


def document(results: list[Result], about: list[tuple[str, str]], quick: bool, seconds: float) -> str:
    lines = ["# Benchmarks", "",
             "Written by `.venv/bin/python bench/run_all.py" + (" --quick" if quick else "")
             + f"` in {seconds:.0f} s; do not edit by hand (the notes live in `bench/run_all.py`).",
             "Each figure is measured in one process, the hub's and its floor's in alternating rounds "
             "(medians), so a load that comes and goes slows both alike: the ratios are what compares "
             "across machines. The floor is the hub's own stack (Flask, peewee, SQLite opened and held "
             "as the hub holds it, the WSGI test client) doing the least the operation must do.", ""]
    if quick:
        lines += ["**A smoke run at tiny sizes (`--quick`): the figures say nothing about speed.**", ""]
    lines += ["## Machine", "", "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in about] + [""]
    lines += ["## Figures", "", "Floor: the same stack doing the least the operation must do (for pages: the "
              "same page at the small size; for bulk verify: its physical limit; for rewrap: the goal).", "",
              "| benchmark | floor | hub | ratio | goal | |", "|---|---|---|---|---|---|"]
    for r in results:
        hub = _figure(r.hub, r.unit) + (f" ({r.hub_label})" if r.hub_label else "")
        lines.append(f"| {r.title} | {_figure(r.floor, r.unit)} ({r.floor_label}) | {hub} "
                     f"| {r.ratio:.2f} | {_goal(r)} | {_verdict(r)} |")
    lines.append("")
    for r in results:
        script = BENCHES[r.key][0]
        lines += [f"## {r.title}", "", f"`bench/{script}`. Goal: {_goal(r)}: {_verdict(r)}.", "",
                  "| | |", "|---|---|",
                  f"| floor ({r.floor_label}) | {_figure(r.floor, r.unit)} |",
                  f"| hub{f' ({r.hub_label})' if r.hub_label else ''} | {_figure(r.hub, r.unit)} |",
                  f"| ratio | **{r.ratio:.2f}** |"]
        lines += [f"| {label} | {text} |" for label, text in r.rows] + ["", NOTES[r.key], ""]
    lines += ["## Running them", "", "```text",
              ".venv/bin/python bench/run_all.py [--quick] [--only KEY,...] [--output PATH]",
              ".venv/bin/python bench/profile_requests.py get|door   # where a request's time goes",
              "```", "", "Each script also runs alone (`--help` gives its sizes); keys: "
              + ", ".join(f"`{k}`" for k in BENCHES) + ".", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--only", help="comma-separated keys: " + ",".join(BENCHES))
    parser.add_argument("--output", type=Path, default=DOCUMENT, help="the document to write")
    parser.add_argument("--save", type=Path, help="also write the results as JSON here")
    parser.add_argument("--render", type=Path, help="write the document from results --save wrote, "
                        "measuring nothing")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        results = [Result(**{**r, "rows": [tuple(x) for x in r["rows"]]}) for r in saved["results"]]
        args.output.write_text(document(results, [tuple(x) for x in saved["machine"]], saved["quick"],
                                        saved["seconds"]))
        print(f"wrote {args.output}")
        return 0
    keys = args.only.split(",") if args.only else list(BENCHES)
    unknown = [k for k in keys if k not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; the keys are {', '.join(BENCHES)}")
    about = machine()
    started = time.perf_counter()
    results = []
    for key in keys:
        began = time.perf_counter()
        result = BENCHES[key][1](args.quick)
        results.append(result)
        print(f"{result.title}: floor {_figure(result.floor, result.unit)}, hub "
              f"{_figure(result.hub, result.unit)}, ratio {result.ratio:.2f}, goal {_goal(result)}: "
              f"{_verdict(result).strip('*')} ({time.perf_counter() - began:.0f} s)", flush=True)
    seconds = time.perf_counter() - started
    if args.save:
        args.save.write_text(json.dumps({"machine": about, "quick": args.quick, "seconds": seconds,
                                         "results": [dataclasses.asdict(r) for r in results]}, indent=1))
    args.output.write_text(document(results, about, args.quick, seconds))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
