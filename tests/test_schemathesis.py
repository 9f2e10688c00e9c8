"""Schemathesis fuzzes the live /openapi.json of a hub served on loopback, as an owner: every
operation, every check, every phase (examples, coverage, fuzzing, and the stateful phase that
follows the document's `links` from create to get, update and delete). Zero failures.

It runs in-process (schemathesis's own command, through click's runner) with a fixed seed and
deterministic generation, so a run is the same every time, and few examples per operation so it
fits the suite's budget.

Two allowances, and why. Eleven operations take provider credentials or project references whose
validity no JSON Schema can state (a credential must fit the *named* provider's auth method and
no string nested in it may hold NUL; a project named in a body must exist, else 400 by the
contract), the OAuth callback's `state` is valid only if the hub issued it (a made-up one is
a 400 page by the contract), and an OAuth app's `provider` may not change (400, as for an
integration). For those, `positive_data_acceptance`
also accepts a 400; every other check still applies to them, and every other operation gets the
check unchanged. And revoking an API key (its DELETE) keeps the revoked record readable: the
`filter_failure` hook below lets exactly that `use_after_free` finding through.
"""
import json
import re

import pytest
import schemathesis
from click.testing import CliRunner
from conftest import BACKENDS
from live_server import served
from schemathesis.cli import schemathesis as st_cli

# Requests whose validity depends on the server's state or on which provider is named.
STATEFUL_BODIES = ["createIntegration", "updateIntegration", "verifyIntegration", "oauthCallback",
                   "createOrgIntegration", "updateOrgIntegration", "verifyOrgIntegration",
                   "verifyProviderConfig", "createApiKey", "updateOauthApp"]

CONFIG = f"""
seed = 20261201

# Nothing kept between runs (the same run every time) and nothing written into the work tree.
[cache]
enabled = false

[generation]
deterministic = true
max-examples = 6
database = "none"

[phases.stateful]
max-steps = 20

# Follow the links the document declares (create -> get/update/delete), not guessed ones.
[phases.stateful.inference]
algorithms = []

[[operations]]
include-operation-id = {json.dumps(STATEFUL_BODIES)}
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]

"""


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """DELETE /v1/api-keys/{key_id} revokes: the key answers 401 from then on, and its record
    stays readable with `revoked_at` set (the audit trail), so a GET after it is a 200. Only that
    is let through: a deleted anything else, or a revoked key read without `revoked_at`, fails."""
    if failure.code != "ST301" or case.operation.label != "GET /v1/api-keys/{key_id}":
        return True
    try:
        return not response.json().get("revoked_at")
    except ValueError:
        return True


# One backend keeps the run inside the suite's budget: the last one enabled (PostgreSQL unless
# HUB_TEST_BACKENDS says otherwise), the stricter of the two about what text it stores.
@pytest.mark.parametrize("backend", BACKENDS[-1:], indirect=True)
def test_schemathesis_finds_nothing(hub, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with served(hub.app) as base_url:
        result = CliRunner().invoke(st_cli, [
            "--config-file", str(config), "--no-color", "run", f"{base_url}/openapi.json",
            "--header", f"Authorization: Bearer {hub.owner_secret}",
            "--checks", "all", "--workers", "1",
        ], catch_exceptions=False)
    out = result.output
    tail = out[out.find("== SUMMARY =="):] if "== SUMMARY ==" in out else out[-6000:]
    assert result.exit_code == 0, out[-20000:]
    # No operation left out, each phase ran and none failed.
    assert re.search(r"Operations:\s+(\d+) selected / \1 total", out), out[:2000]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅\s+{phase}\b", tail), tail
    assert "failed" not in out.split("== WARNINGS ==")[0], out[:6000]
    links = re.search(r"API Links:\s+(\d+) covered", out)
    assert links and int(links.group(1)) > 0, tail  # the stateful phase did chain operations
