"""Latency of a page of a project's integrations (`GET /v1/projects/{p}/integrations?limit=50`)
with 1,000 integrations in the project and with 1,000,000.

The integrations are written in bulk (one INSERT per 20,000 rows with executemany, inside one
transaction; every row carries the same sealed credentials, which a list never opens, and its own
row MAC, which a list checks). Measured:
the first page and a page by cursor ten pages in, each the best median over rounds
that alternate between the two hubs (both open at once), so that both sizes meet the same load.
Goal: 1M / 1k <= 1.2 for each, since a page is one index range on (project, id).

    .venv/bin/python bench/bench_integration_list.py [--count 1000000] [--requests 100] [--rounds 5]
"""
from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from urllib.parse import quote

from floor import Result, alternate_pages, hub_app

from hub.crypto import row_binding
from hub.integrations import integrity
from hub.storage.models import Integration, new_id


def fill(app, setup, count: int, chunk: int = 20_000) -> None:
    """`count` integrations in the bench project, as rows cloned from one the API created."""
    client, auth = app.test_client(), {"Authorization": f"Bearer {setup.secret}"}
    made = client.post("/v1/projects/bench-project/integrations", headers=auth, json={
        "name": "template", "provider": "slack", "credentials": {"token": "xoxb-bench"}, "tags": []})
    assert made.status_code == 201, made.get_json()
    db = app.extensions["hub.db"]
    fields = Integration._meta.sorted_fields
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    sql = f'INSERT INTO "integration" ({columns}) VALUES ({", ".join("?" * len(fields))})'
    with app.app_context(), db.connection_context():
        template = Integration.get_by_id(made.get_json()["id"])
        values = [f.db_value(template.__data__.get(f.name)) for f in fields]
        names = [f.name for f in fields]
        at_id, at_name, at_mac = names.index("id"), names.index("name"), names.index("integrity")
        # Each clone carries its own row MAC (it binds the id), as the hub would have written it:
        # a list refuses a row whose MAC does not verify.
        keyring, bound = app.extensions["hub.keyring"].get(), integrity.bound_values(template)
        with db.atomic():
            cursor = db.cursor()
            for start in range(1, count, chunk):  # the template is the first of `count`
                batch = []
                for i in range(start, min(start + chunk, count)):
                    row = list(values)
                    row[at_id], row[at_name] = new_id(), f"bulk-{i}"
                    row[at_mac] = row_binding.mac(keyring, integrity.KIND, bound | {"id": row[at_id]})
                    batch.append(row)
                cursor.executemany(sql, batch)
        db.execute_sql("ANALYZE")


def measure(small: int = 1000, big: int = 1_000_000, requests: int = 100, rounds: int = 5) -> Result:
    sides, filled = {}, {}
    with contextlib.ExitStack() as stack:
        for count in (small, big):
            app, setup = hub_app(stack.enter_context(tempfile.TemporaryDirectory()))
            started = time.perf_counter()
            fill(app, setup, count)
            filled[count] = time.perf_counter() - started
            client, auth = app.test_client(), {"Authorization": f"Bearer {setup.secret}"}
            base = "/v1/projects/bench-project/integrations?limit=50"
            page = client.get(base, headers=auth).get_json()
            assert len(page["items"]) == 50, page
            for _ in range(max(0, min(10, count // 50 - 2))):  # a cursor ten pages in
                page = client.get(f"{base}&cursor={quote(page['next_cursor'])}", headers=auth).get_json()
            sides[count] = (client, auth, {"first page": base,
                                           "by cursor": f"{base}&cursor={quote(page['next_cursor'])}"})
        results = alternate_pages(sides, requests, rounds)
    ratios = {name: results[big][name] / results[small][name] for name in results[small]}
    worst = max(ratios, key=ratios.get)
    return Result("integration_list", f"Integrations page (limit=50) at {big:,} vs {small:,}", "ms",
                  f"{small:,} integrations", results[small][worst], results[big][worst], ratios[worst],
                  "<= 1.2", hub_label=f"{big:,} integrations",
                  rows=[(name, f"{results[small][name]:.2f} ms at {small:,}, {results[big][name]:.2f} ms "
                               f"at {big:,}: {ratios[name]:.2f}") for name in ratios]
                  + [("filled in bulk", f"{filled[big]:.1f} s for {big:,} integrations")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = measure(1000, args.count, args.requests, args.rounds)
    for label, text in result.rows:
        print(f"{label}: {text}")
    print(f"worst ratio {result.ratio:.2f} (goal {result.goal})")


if __name__ == "__main__":
    main()
