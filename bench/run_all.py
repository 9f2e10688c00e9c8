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
from floor import Result, cpu_model  # noqa: E402

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
The hub authenticates the bearer key (BLAKE2b of the secret, one indexed lookup, the row's MAC),
finds the project by handle (one indexed lookup) and dumps it through its marshmallow schema; the
floor reads one row by primary key and returns it with `jsonify`, with no auth, no hooks and no
schema. Both hold their thread's SQLite connection across requests, as `hub serve` does
(waitress's threads are long-lived). Before that, every request paid five per-connection pragmas
and a WAL checkpoint on close (hub 623 req/s, floor 929: 0.67x). Holding the connection made the
floor 3.5x faster and the hub 1.9x (0.42x). The two prepared lookups then got to build their
model row from a column plan cached per database (0.53x). The row MAC check on every request
(issue 10) then cost about 20 us (0.48x on this machine, three runs). Then (issue 11, each run
three times against the same floor; 0.48x -> 0.57x): the secret's keyed BLAKE2b through hashlib
rather than PyNaCl (the same function: 12 us -> 2 us); the API key's MAC not recomputed for a
row whose bound values and MAC are exactly those of one that verified before (the keyring
remembers them; the row is still read and checked for revocation and expiry on every request,
and any change to it misses and is checked in full: 20 us -> 4 us); the principal built once
rather than replaced twice; whether a route is public worked out once per route; Flask's
`ensure_sync` answer remembered per function (Flask asks it for every hook and view of every
request); the input guard skipping the query and body walk when there is neither; the access
log formatting nothing when its line would be dropped; prepared statements run on the open
connection without peewee's layers (its error mapping kept) and DateTime columns read with
`fromisoformat` directly.

Where the hub's time goes now (pyinstrument over 3,000 requests, `bench/profile_requests.py
get`; shares of the hub's WSGI app, the test client excluded): `authenticate` and
`context.principal` 22% (the key's query and row 10%, the remembered MAC 2%, the client IP 2%,
the token checksum 1.4%); `find_project` 8% (a second query: one statement joining the key and
the project would save most of it); the schema dump 6% and `jsonify` 8%; the request id hooks
5% (`hub/api/__init__.py`, a uuid4 per request); the response headers 3%; URL routing over the
hub's map 8% and Flask's request and app contexts, the URL adapter and the WSGI response about
25% (the floor pays a smaller share of these). What is left is spread over Flask, werkzeug and
marshmallow as much as over the hub: 0.8x would need fewer layers per request than Flask with
flask-smorest gives (a view that returns its JSON without a schema dump, no per-request hooks).""",
    "create": """\
No goal. The hub validates the body against Slack's schema, seals the credentials, inserts the
row and its tags and appends `integration.create` to the org's audit chain, in one transaction;
the floor parses the body and inserts one row. Where the hub's time goes (pyinstrument, 500
creations, shares of the hub's WSGI app): peewee compiling and running the 22-column INSERT 17%;
`KeyRing.seal` looking up the primary data key in the database on every seal 11% (a peewee query
per creation: `hub/crypto/keyring.py` `_primary_id_in_database`); the tags' INSERT 7%; the audit
append 6%; COMMIT 5%; validation 6% (a marshmallow schema built per request 2.4%); `to_record`
building the provider's config schema to find its secret fields 2%; auth 5%.""",
    "integration_list": """\
Seeded in bulk: one INSERT statement per 20,000 rows (executemany) in a single transaction, each
row a copy of one created through the API under a new id and name with its own row MAC (a
list checks it), the sealed credentials one ciphertext reused (a list never opens them). Both hubs stay open and the rounds alternate between
them, so both sizes meet the same load (measured one after the other, a neighbour's load once made
the ratio 2.5). A page is one index range on (project, id): its cost does not grow with the
project. Its SQL is 0.3 ms; nearly all of a page's time is turning its 50 rows into records and
dumping them through the schema.""",
    "door": """\
`GET /v1/projects/{p}/integrations/{id}/credentials`: auth, project, the integration row (its MAC
checked), decrypt (the fingerprint checked), an audit event appended to the org's chain under its
head lock (head read, event hash, insert, head update), committed; the floor reads a row by
primary key, decrypts it (XChaCha20-Poly1305), inserts one row and commits. Before connections
were held across requests both sides also paid a WAL checkpoint on every close, which hid the
rest (floor 385 req/s, hub 236: 0.61x). Holding them made the floor about 7x faster and the hub
about 4x (0.36x). OAuth refresh before a read then made the door read the integration twice
(once before its transaction, once in it), and the row MACs came in (0.26x on this machine,
three runs). Then (issue 11; 0.26x -> 0.33x, three runs each): a row that is not an OAuth one
is read once, in the audited transaction (an OAuth row is still refreshed in a transaction of
its own first); the credentials fingerprint through hashlib's BLAKE2b (10 us -> 3 us); the audit
append building its row directly and converting only its JSON and datetime columns; and what
the GET above gained (auth, hooks, prepared statements).

Where the hub's time goes now (pyinstrument over 1,500 requests, `bench/profile_requests.py
door`; shares of the hub's WSGI app): the audit append 14% (the insert 4%, the event's
canonical-JSON hash 3%, the head read 2%); COMMIT 9% and BEGIN 3% (the floor pays them too);
opening the credentials 7% (the integration row's MAC 3%, about 20 us, decrypting 2.5%); the
integration lookup 5%; the project lookup 3%; parsing the `min_valid` query argument 12%, half
of it webargs building the `FreshnessArgs` schema anew on every request (a schema instance in
the decorator would spare it); `authenticate` 9%; the response's schema dump and `jsonify` 5%;
the rest Flask's contexts, routing and hooks. The hub runs six statements, two hashes and two
MACs where the floor runs three statements (a read, an insert, COMMIT): 0.5x is out of reach without fewer
statements per read (the key and project in one, the head read and update in one).""",
    "audit_paging": """\
The org's chain filled in bulk (their hashes not a valid chain: paging never reads them). Both
hubs stay open and the rounds alternate between them. A page is one index range in `seq` order
((project, seq) or (project, action, seq)), so its cost does not depend on the chain's length.""",
    "rewrap": """\
`hub crypto rewrap`'s loop on sealed rows (half integration credentials, half secret versions),
batch size 1,000: decrypt under the old data key, seal under the new primary, one conditional
UPDATE statement per batch; then every record is checked to open under the new key.""",
    "bulk_verify": """\
The real `hub integrations verify --all --concurrency 32` (in process, through the CLI runner)
against a fake Slack in its own process on loopback, answering every `auth.test` after 200 ms.
Each check opens the credentials, calls the fake through the egress client, then, in one
transaction, records the result on the row and appends `integration.verify` to the audit chain.
The physical limit assumes every thread is always waiting on the fake (32 rounds of 32 checks are
6.4 s, the formula's 6.25 s).

Where the time went (each phase timed across the 32 threads, per check): SQLite's busy handler
was the largest excess: a writer that found the write lock taken slept in steps of up to 100 ms,
29 ms per check on average for transactions of about 1 ms (1.37x). The process's SQLite writers
now take turns and are woken as the holder commits (`hub.storage.database.WriteTurns`): 2-7 ms
per check. What is left per check: the egress client and HTTP 13-18 ms beyond the fake's 200 ms
(two cores shared by 32 threads, under the GIL), and a SQLite connection opened and closed per
check (2-4 ms: `hub/verification/bulk.py` `_check_one` opens one per check; a connection per
worker thread would save it). With the fake in the same process (its threads competing for the
hub's GIL) it was 1.26x-1.31x.""",
}


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
