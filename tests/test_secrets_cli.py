"""`hub secrets ...`: the console script end to end on a real instance folder, and every command
through Flask's CLI runner on a set-up hub, on SQLite and PostgreSQL."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.storage.models import SecretVersion

HUB = str(Path(sys.executable).with_name("hub"))
PASSWORD = "Pl41n-cli-s3cret-\u00e9-91c"


def sha256_of(values) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode("utf-8")).hexdigest()


# -- the console script, end to end --------------------------------------------------------------

def run_hub(args, env_extra, check=True, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(env_extra)
    proc = subprocess.run([HUB, *args], env=env, capture_output=True, text=True, timeout=120,
                          input=stdin)
    if check and proc.returncode != 0:
        raise AssertionError(f"hub {args} failed: {proc.stdout}{proc.stderr}")
    return proc


def test_console_script_flow(tmp_path):
    # The real console script, once, on the embedded default (SQLite in the instance folder); the
    # same commands run on both backends through the CLI runner below.
    env = {"HUB_INSTANCE_PATH": str(tmp_path / "instance")}
    run_hub(["init"], env)
    # Bytes that are not UTF-8 on the command line reach click as lone surrogates.
    undecodable = run_hub(["secrets", "create", "--project", "default", "--name", "bad",
                           "--description", b"caf\xe9", "--values", '{"a": "b"}'], env, check=False)
    assert undecodable.returncode == 1 and "description" in undecodable.stderr, undecodable.stderr
    assert "Traceback" not in undecodable.stderr
    values_file = tmp_path / "db.json"
    values_file.write_text(json.dumps({"username": "app", "password": "${DB_PASSWORD}",
                                       "dsn": "postgres://app:${DB_PASSWORD}@db/app?x=$${literal}"}))
    made = json.loads(run_hub(["secrets", "create", "--project", "default", "--name", "db",
                               "--description", "Payments DB", "--file", str(values_file),
                               "--var", f"DB_PASSWORD={PASSWORD}", "--json"], env).stdout)
    expected = {"username": "app", "password": PASSWORD,
                "dsn": f"postgres://app:{PASSWORD}@db/app?x=${{literal}}"}
    assert made["name"] == "db" and made["current_version"] == 1 and made["description"] == "Payments DB"
    assert made["version"]["state"] == "ENABLED" and made["version"]["sha256"] == sha256_of(expected)

    rotated = run_hub(["secrets", "update", "db", "--project", "default", "--values",
                       json.dumps({"username": "app", "password": "${P}"}), "--var", "P=second",
                       "--cas", "1"], env)
    assert "ENABLED" in rotated.stdout and "SHA256" in rotated.stdout

    table = run_hub(["secrets", "list-versions", "db", "--project", "default"], env).stdout
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["VERSION", "STATE", "SHA256"]
    assert [line.split()[:2] for line in lines[1:]] == [["1", "DISABLED"], ["2", "ENABLED"]]

    run_hub(["secrets", "enable", "db", "1", "--project", "default"], env)
    version_1 = json.loads(run_hub(["secrets", "get-version", "db", "1", "--project", "default",
                                    "--json"], env).stdout)
    assert version_1["state"] == "ENABLED" and version_1["sha256"] == sha256_of(expected)

    resolved = run_hub(["secrets", "resolve", "--project", "default", "--template",
                        "${secret:db.password}"], env).stdout
    assert resolved == PASSWORD + "\n"

    outputs = []
    for args in (["secrets", "get", "db", "--project", "default"],
                 ["secrets", "get", "db", "--project", "default", "--json"],
                 ["secrets", "list", "--project", "default"],
                 ["secrets", "list", "--project", "default", "--json"],
                 ["secrets", "list-versions", "db", "--project", "default", "--json"],
                 ["secrets", "get-version", "db", "2", "--project", "default"],
                 ["crypto", "status"]):
        proc = run_hub(args, env)
        outputs.append(proc.stdout + proc.stderr)
    outputs += [json.dumps(made), rotated.stdout, rotated.stderr, table]
    for text in outputs:
        assert PASSWORD not in text and "second" not in text

    stale = run_hub(["secrets", "update", "db", "--project", "default", "--values", '{"a": "b"}',
                     "--cas", "1"], env, check=False)
    assert stale.returncode == 1 and "newest version of secret 'db' is 2" in stale.stderr
    assert "Traceback" not in stale.stderr


# -- every command, through the CLI runner -------------------------------------------------------

@pytest.fixture
def cli(hub):
    runner = hub.app.test_cli_runner()

    def invoke(*args, input=None):
        return runner.invoke(args=["secrets", *args], input=input)

    return invoke


def ok(result):
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_file_with_vars_and_placeholder_errors(cli, tmp_path, hub):
    template = tmp_path / "values.json"
    template.write_text('{"user": "${USER_NAME}", "pass": "${PASS}", "quote": "\\"${PASS}\\"", '
                        '"keep": "$${PASS} and ${not a placeholder}"}')
    made = json.loads(ok(cli("create", "--project", "payments", "--name", "svc", "--file", str(template),
                             "--var", "USER_NAME=bob", "--var", 'PASS=p"w=1', "--json")).stdout)
    expected = {"user": "bob", "pass": 'p"w=1', "quote": '"p"w=1"', "keep": "${PASS} and ${not a placeholder}"}
    assert made["version"]["sha256"] == sha256_of(expected)
    assert ok(cli("resolve", "--project", "payments", "--template", "${secret:svc.quote}")).stdout == '"p"w=1"\n'

    missing = cli("create", "--project", "payments", "--name", "svc2", "--file", str(template),
                  "--var", "USER_NAME=bob")
    assert missing.exit_code == 1
    assert "Unknown placeholder ${PASS}" in missing.output and "--var" in missing.output
    bad_var = cli("create", "--project", "payments", "--name", "svc2", "--values", '{"a": "b"}',
                  "--var", "no-equals")
    assert bad_var.exit_code == 2 and "--var" in bad_var.output
    # The values can come from stdin too.
    ok(cli("create", "--project", "payments", "--name", "piped", "--file", "-", "--var", "X=1",
           input='{"v": "${X}"}'))
    assert ok(cli("resolve", "--project", "payments", "--template", "${secret:piped.v}")).stdout == "1\n"


def test_values_input_errors(cli, tmp_path):
    both = cli("create", "--project", "payments", "--name", "x", "--values", '{"a": "b"}', "--file", "-",
               input="{}")
    assert both.exit_code == 2 and "exactly one of --values" in both.output
    neither = cli("create", "--project", "payments", "--name", "x")
    assert neither.exit_code == 2 and "exactly one of --values" in neither.output
    not_json = cli("create", "--project", "payments", "--name", "x", "--values", "{a: b}")
    assert not_json.exit_code == 1 and "not JSON" in not_json.output
    for values, named in (('{"a": 1}', "values.a"), ("{}", "values"), ('["a"]', "values"),
                          ('{"b c": "x"}', "values.b c")):
        result = cli("create", "--project", "payments", "--name", "x", "--values", values)
        assert result.exit_code == 1 and named in result.output, values
        assert "Traceback" not in result.output
    not_utf8 = tmp_path / "latin1.json"
    not_utf8.write_bytes(b'{"a": "caf\xe9"}')
    for command in (["create", "--project", "payments", "--name", "x"], ["resolve", "--project", "payments"]):
        result = cli(*command, "--file", str(not_utf8))
        assert result.exit_code == 1 and "not UTF-8" in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    unknown_project = cli("create", "--project", "nope", "--name", "x", "--values", '{"a": "b"}')
    assert unknown_project.exit_code == 1 and "No project 'nope'" in unknown_project.output
    ok(cli("create", "--project", "payments", "--name", "x", "--values", '{"a": "b"}'))
    taken = cli("create", "--project", "payments", "--name", "x", "--values", '{"a": "b"}')
    assert taken.exit_code == 1 and "already exists" in taken.output


def test_update_list_versions_get_version_and_states(cli, hub):
    ok(cli("create", "--project", "payments", "--name", "db", "--values", json.dumps({"p": PASSWORD})))
    for n in (2, 3):
        out = ok(cli("update", "db", "--project", "payments", "--values", json.dumps({"p": f"v{n}"}),
                     "--cas", str(n - 1), "--json")).stdout
        assert json.loads(out)["current_version"] == n
    stale = cli("update", "db", "--project", "payments", "--values", '{"p": "x"}', "--cas", "1")
    assert stale.exit_code == 1 and "is 3, not 1" in stale.output
    # In CLI words, not the API's (`cas: 3`, PUT).
    assert "'hub secrets update db --project payments --cas 3'" in stale.output
    assert "cas: " not in stale.output and "PUT" not in stale.output

    listed = json.loads(ok(cli("list-versions", "db", "--project", "payments", "--json")).stdout)
    assert [(v["version"], v["state"]) for v in listed] == [(1, "DISABLED"), (2, "DISABLED"), (3, "ENABLED")]
    assert listed[0]["sha256"] == sha256_of({"p": PASSWORD})

    rolled = json.loads(ok(cli("enable", "db", "1", "--project", "payments", "--json")).stdout)
    assert rolled["state"] == "ENABLED"
    one = json.loads(ok(cli("get-version", "db", "3", "--project", "payments", "--json")).stdout)
    assert one["state"] == "DISABLED" and set(one) == {"version", "state", "sha256", "created_at",
                                                         "state_changed_at"}
    table = ok(cli("get-version", "db", "1", "--project", "payments")).stdout
    assert table.splitlines()[0].split() == ["VERSION", "STATE", "SHA256", "CREATED_AT", "STATE_CHANGED_AT"]
    assert table.splitlines()[1].split()[:2] == ["1", "ENABLED"]

    meta = json.loads(ok(cli("get", "db", "--project", "payments", "--json")).stdout)
    assert meta["current_version"] == 3 and meta["enabled_version"] == 1
    rows = json.loads(ok(cli("list", "--project", "payments", "--json")).stdout)
    assert [r["name"] for r in rows] == ["db"]
    assert "CURRENT_VERSION" in ok(cli("list", "--project", "payments")).stdout

    assert json.loads(ok(cli("disable", "db", "1", "--project", "payments", "--json")).stdout)["state"] == "DISABLED"
    refused = cli("destroy", "db", "2", "--project", "payments")  # asks first; no answer: aborted
    assert refused.exit_code != 0
    assert json.loads(ok(cli("get-version", "db", "2", "--project", "payments", "--json")).stdout)["state"] == "DISABLED"
    gone = json.loads(ok(cli("destroy", "db", "2", "--project", "payments", "--yes", "--json")).stdout)
    assert gone["state"] == "DESTROYED"
    again = cli("destroy", "db", "2", "--project", "payments", "--yes")
    assert again.exit_code == 1 and "already destroyed" in again.output
    enable_destroyed = cli("enable", "db", "2", "--project", "payments")
    assert enable_destroyed.exit_code == 1 and "destroyed" in enable_destroyed.output
    missing = cli("get-version", "db", "9", "--project", "payments")
    assert missing.exit_code == 1 and "no version 9" in missing.output
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        row = SecretVersion.get(SecretVersion.version == 2)
        assert row.values_ciphertext is None and row.values_key_id is None

    no_enabled = cli("resolve", "--project", "payments", "--template", "${secret:db.p} ${secret:x.y}")
    assert no_enabled.exit_code == 1
    assert "${secret:db.p}" in no_enabled.output and "${secret:x.y}" in no_enabled.output

    assert ok(cli("delete", "db", "--project", "payments", "--yes")).stdout.startswith("deleted")
    assert cli("get", "db", "--project", "payments").exit_code == 1


def test_reads_never_print_a_value(cli):
    """While the secret exists, with its value in an ENABLED and a DISABLED version."""
    ok(cli("create", "--project", "payments", "--name", "db", "--description", "d",
           "--values", json.dumps({"p": PASSWORD, "u": "app"})))
    ok(cli("update", "db", "--project", "payments", "--values", json.dumps({"p": PASSWORD + "-2"})))
    # The resolve command does print it, so the needles below are ones a leak would show.
    assert ok(cli("resolve", "--project", "payments", "--template", "${secret:db.p}")).stdout \
        == PASSWORD + "-2\n"
    needles = [PASSWORD, json.dumps(PASSWORD)[1:-1], PASSWORD.split("-\u00e9")[0]]
    for args in (["list", "--project", "payments"], ["list", "--project", "payments", "--json"],
                 ["get", "db", "--project", "payments"], ["get", "db", "--project", "payments", "--json"],
                 ["list-versions", "db", "--project", "payments"],
                 ["list-versions", "db", "--project", "payments", "--json"],
                 ["get-version", "db", "1", "--project", "payments"],
                 ["get-version", "db", "1", "--project", "payments", "--json"],
                 ["get-version", "db", "2", "--project", "payments", "--json"],
                 ["enable", "db", "1", "--project", "payments", "--json"],
                 ["disable", "db", "1", "--project", "payments", "--json"]):
        result = ok(cli(*args))
        assert "db" in result.output or "version" in result.output.lower(), args
        for needle in needles:
            assert needle not in result.output, args


def test_operator_of_the_projects_org(cli, hub):
    other_org, _ = hub.make_org("globex", "rockets")
    ok(cli("create", "--project", "rockets", "--name", "launch", "--values", '{"code": "1234"}'))
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        from hub.storage.models import Project
        rockets = Project.get(Project.handle == "rockets")
    assert rockets.org_id == other_org.id
    # By id as well as by handle.
    assert ok(cli("resolve", "--project", rockets.id, "--template", "${secret:launch.code}")).stdout == "1234\n"
    template = '{"url": "${secret:launch.code}"}'
    resolved = ok(cli("resolve", "--project", "rockets", "--file", "-", input=template)).stdout
    assert resolved == '{"url": "1234"}'
    assert cli("get", "launch", "--project", "payments").exit_code == 1


# -- review findings -----------------------------------------------------------------------------

def test_var_errors_show_nothing_of_the_argument(cli):
    for pairs, position in ((["A=1", "S3cr3t-no-equals-91"], "2nd"),
                            (["p@ss-S3cr3t=word-91"], "1st"),
                            (["A=1", "B=2", "=S3cr3t-empty-name-91"], "3rd")):
        args = [a for pair in pairs for a in ("--var", pair)]
        result = cli("create", "--project", "payments", "--name", "x", "--values", '{"a": "${A}"}', *args)
        assert result.exit_code == 2, result.output
        assert f"{position} --var" in result.output, result.output
        for fragment in ("S3cr3t", "p@ss", "word-91"):
            assert fragment not in result.output and fragment not in result.stderr, result.output


@pytest.mark.parametrize("number", [str(2**31), str(2**63), "99999999999999999999999", "0", "-1"])
def test_version_number_arguments_are_bounded(cli, number):
    ok(cli("create", "--project", "payments", "--name", "db", "--values", '{"a": "b"}'))
    for command in (["get-version"], ["enable"], ["disable"], ["destroy", "--yes"]):
        result = cli(*command, "db", number, "--project", "payments")
        assert result.exit_code == 2, (command, result.output, result.exception)
        assert "Traceback" not in result.output and "N" in result.output
    assert ok(cli("get-version", "db", "1", "--project", "payments")).exit_code == 0
    missing = cli("get-version", "db", str(2**31 - 1), "--project", "payments")
    assert missing.exit_code == 1 and "no version" in missing.output


@pytest.mark.parametrize("bad", ["a\x00b", "lone \ud800", "\udcff"])
def test_unstorable_text_is_a_clean_error(cli, bad):
    described = cli("create", "--project", "payments", "--name", "x", "--description", bad,
                    "--values", '{"a": "b"}')
    assert described.exit_code == 1 and "description" in described.output, described.output
    assert described.exception is None or isinstance(described.exception, SystemExit)
    ok(cli("create", "--project", "payments", "--name", "db", "--values", '{"a": "b"}'))
    updated = cli("update", "db", "--project", "payments", "--description", bad, "--values", '{"a": "c"}')
    assert updated.exit_code == 1 and "description" in updated.output, updated.output
    # In a value, from --values (JSON escapes), from a --var, or from a file.
    escaped = json.dumps(bad)
    for args, input_ in ((["--values", '{"k": %s}' % escaped], None),
                         (["--values", '{"k": "${V}"}', "--var", f"V={bad}"], None),
                         (["--file", "-"], '{"k": %s}' % escaped)):
        result = cli("update", "db", "--project", "payments", *args, input=input_)
        assert result.exit_code == 1 and "values.k" in result.output, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
    for ref in ("pay\x00ments", "pay\udcffments"):
        result = cli("get", "db", "--project", ref)
        assert result.exit_code == 1 and "No project" in result.output, result.output
    listed = json.loads(ok(cli("list-versions", "db", "--project", "payments", "--json")).stdout)
    assert [v["version"] for v in listed] == [1]
