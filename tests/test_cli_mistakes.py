"""The CLI as a person meets it: every mistake is one sentence and a non-zero exit, reading commands
leave nothing on disk, `--json` wherever data is printed, the hub's own version and options.

In-process (the CLI runner) wherever a subprocess is not the point; the console script itself for
a port in use and a missing driver."""
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import hub as hub_package
from hub.cli import HubGroup, output

HUB = str(Path(sys.executable).with_name("hub"))
BACKENDS = os.environ.get("HUB_TEST_BACKENDS", "sqlite,postgres").split(",")
PG_DSN = os.environ.get("HUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432")

# Commands that print no data, so take no --json (a confirmation line, a value, a server), and
# `audit export`, which prints nothing but JSON lines already.
NO_JSON = {"secrets delete", "secrets resolve", "keys revoke", "crypto rotate", "serve", "audit export"}


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(extra)
    return env


def _console(args, env, **kw):
    return subprocess.run([HUB, *args], env=env, capture_output=True, text=True, timeout=60, check=False, **kw)


def _hub_cli(args, instance: Path, **env):
    """`hub ARGS` in-process, as the console script builds its app (from HUB_* settings)."""
    unset = {k: None for k in os.environ if k.startswith("HUB_")}
    return CliRunner().invoke(HubGroup(), args, env=unset | {"HUB_INSTANCE_PATH": str(instance)} | env)


def _one_sentence_failure(result, *needles):
    text = result.output + (result.stderr if hasattr(result, "stderr") else "")
    assert result.exit_code != 0, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in text
    for needle in needles:
        assert needle in text, text


def _leaf_commands(group: click.Group, prefix=""):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


# -- the group: version, help, --json ------------------------------------------------------------

def test_version_and_help_are_the_hubs():
    result = CliRunner().invoke(HubGroup(), ["--version"])
    assert result.exit_code == 0 and result.output == f"hub {hub_package.__version__}\n"
    helped = CliRunner().invoke(HubGroup(), ["--help"], env={"HUB_ROOT_KEY": "not base64"})
    assert helped.exit_code == 0, helped.output  # listing the commands builds no app
    for flask_option in ("--env-file", "--app", "--debug", "-A", "-e"):
        assert flask_option not in helped.output
    for command in ("init", "serve", "projects", "secrets", "keys", "providers"):
        assert f"  {command} " in helped.output
    assert "Python" not in helped.output and "Flask" not in helped.output


def test_console_script_version():
    proc = _console(["--version"], _clean_env())
    assert proc.returncode == 0 and proc.stdout.strip() == f"hub {hub_package.__version__}"


def test_every_command_that_prints_data_takes_json():
    leaves = dict(_leaf_commands(HubGroup()))
    assert {"projects list", "projects create", "db upgrade"} <= set(leaves)
    for name, command in leaves.items():
        has_json = any(p.name == "as_json" for p in command.params)
        assert has_json == (name not in NO_JSON), name


# -- reading commands on a hub never set up --------------------------------------------------------

READS = [["keys", "list"], ["crypto", "status"], ["projects", "list"], ["secrets", "list", "--project", "p"],
         ["secrets", "get", "s", "--project", "p"], ["integrations", "verify", "--all"], ["serve"],
         ["keys", "revoke", "x"], ["orgs", "create", "acme"]]


def test_commands_on_a_missing_instance_say_run_init_and_create_nothing(tmp_path):
    instance = tmp_path / "instance"
    for args in READS:
        result = _hub_cli(args, instance)
        _one_sentence_failure(result, "hub init")
        assert not instance.exists(), args
    listed = _hub_cli(["providers", "list", "--json"], instance)  # needs no database
    assert listed.exit_code == 0, listed.output
    assert not instance.exists()
    made = _hub_cli(["init", "--json"], instance)
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["project"] == "default" and (instance / "hub.db").exists()


def test_commands_on_a_database_without_tables_say_run_init(make_app, database_url):
    if database_url.startswith("sqlite:///"):
        Path(database_url[len("sqlite:///"):]).touch()  # an empty file: "no such table: org"
    runner = make_app().test_cli_runner()
    for args in READS:
        result = runner.invoke(args=args)
        _one_sentence_failure(result, "hub init")
        assert "no such table" not in result.output and "relation" not in result.output


@pytest.mark.skipif("postgres" not in BACKENDS, reason="needs the PostgreSQL server")
def test_a_missing_postgresql_database_says_createdb(make_app):
    runner = make_app(DATABASE_URL=f"{PG_DSN}/hub_missing_xyz").test_cli_runner()
    for args in (["keys", "list"], ["init"], ["serve"], ["db", "upgrade"], ["crypto", "status"]):
        _one_sentence_failure(runner.invoke(args=args), "'hub_missing_xyz' does not exist",
                              "createdb hub_missing_xyz")


@pytest.mark.parametrize("url, needle", [
    ("mysql://db/hub", "unsupported scheme"),
    ("postgresql://u:s3cret-pw@db:notaport/hub", "not a usable PostgreSQL URL"),
    ("postgresql://u@db:5432/", "names no database"),
    ("sqlite:///", "names no SQLite file"),
])
def test_unusable_database_urls(tmp_path, url, needle):
    result = _hub_cli(["keys", "list"], tmp_path / "instance", HUB_DATABASE_URL=url)
    _one_sentence_failure(result, needle, "HUB_DATABASE_URL")
    assert "s3cret-pw" not in result.output


def test_postgresql_without_its_driver_says_what_to_install(tmp_path):
    # The driver cannot be imported in this process (as on a machine without `hub[postgres]`).
    (tmp_path / "nodriver").mkdir()
    (tmp_path / "nodriver" / "sitecustomize.py").write_text(
        "import sys\nsys.modules['psycopg2'] = None\nsys.modules['psycopg'] = None\n")
    env = _clean_env(PYTHONPATH=str(tmp_path / "nodriver"), HUB_INSTANCE_PATH=str(tmp_path / "instance"),
                     HUB_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/hub")
    proc = _console(["keys", "list"], env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "pip install 'hub[postgres]'" in proc.stderr
    assert not (tmp_path / "instance").exists()


def test_a_port_in_use_is_one_sentence_and_nothing_claims_to_serve(hub, root_key_b64):
    database_url = hub.app.config["DATABASE_URL"]
    env = _clean_env(HUB_INSTANCE_PATH=hub.app.config["INSTANCE_PATH"], HUB_DATABASE_URL=database_url,
                     HUB_ROOT_KEY=root_key_b64)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _console(["serve", "--port", str(port)], env)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "serving" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: Cannot listen on 127.0.0.1:{port}") and "--port" in last


# -- data as JSON, errors in CLI words ------------------------------------------------------------

def test_providers_list_json_has_lists_and_booleans(hub):
    result = hub.app.test_cli_runner().invoke(args=["providers", "list", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    slack = next(p for p in body["providers"] if p["name"] == "slack")
    assert isinstance(slack["auth_methods"], list) and all(isinstance(m, str) for m in slack["auth_methods"])
    assert slack["verify_supported"] is True
    assert body["failures"] == []
    table = hub.app.test_cli_runner().invoke(args=["providers", "list"]).stdout
    assert table.splitlines()[0].split() == ["NAME", "DISPLAY_NAME", "VERSION", "PACKAGE", "AUTH_METHODS",
                                             "VERIFY"]


def test_projects_list_and_create(hub):
    runner = hub.app.test_cli_runner()
    made = runner.invoke(args=["projects", "create", "checkout", "--org", "acme", "--display-name",
                               "Checkout", "--json"])
    assert made.exit_code == 0, made.output
    row = json.loads(made.stdout)
    assert row["handle"] == "checkout" and row["display_name"] == "Checkout" and row["org"] == "acme"
    listed = json.loads(runner.invoke(args=["projects", "list", "--org", "acme", "--json"]).stdout)
    assert [p["handle"] for p in listed] == ["payments", "checkout"]
    assert listed[1]["id"] == row["id"]
    table = runner.invoke(args=["projects", "list", "--org", "acme"]).stdout
    assert table.splitlines()[0].split()[:2] == ["HANDLE", "ID"] and "checkout" in table
    # The API sees it too.
    assert hub.call("GET", "/v1/projects/checkout").json["id"] == row["id"]

    _one_sentence_failure(runner.invoke(args=["projects", "create", "checkout", "--org", "acme"]), "taken")
    _one_sentence_failure(runner.invoke(args=["projects", "create", "Not_A_Handle", "--org", "acme"]),
                          "HANDLE: Must be 2-63 characters")
    _one_sentence_failure(runner.invoke(args=["projects", "list", "--org", "nope"]), "No org named 'nope'")
    _one_sentence_failure(runner.invoke(args=["projects", "create", "x2", "--org", "acme",
                                              "--display-name", "a\x00b"]), "--display-name")


def test_db_upgrade_json(hub):
    result = hub.app.test_cli_runner().invoke(args=["db", "upgrade", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"applied": []}


def test_errors_speak_cli_not_api(hub):
    runner = hub.app.test_cli_runner()
    values = ["--values", '{"a": "b"}']
    assert runner.invoke(args=["secrets", "create", "--project", "payments", "--name", "db", *values]).exit_code == 0
    taken = runner.invoke(args=["secrets", "create", "--project", "payments", "--name", "db", *values])
    _one_sentence_failure(taken, "already exists", "'hub secrets update db --project payments'")
    stale = runner.invoke(args=["secrets", "update", "db", "--project", "payments", *values, "--cas", "7"])
    _one_sentence_failure(stale, "is 1, not 7", "--cas 1")
    unknown = runner.invoke(args=["secrets", "list", "--project", "nope"])
    _one_sentence_failure(unknown, "No project 'nope'", "hub projects list")
    key = runner.invoke(args=["keys", "create", "--org", "acme", "--name", "k", "--project", "nope"])
    _one_sentence_failure(key, "--project", "No project 'nope'", "hub projects list --org acme")
    for result in (taken, stale, unknown, key):
        for api_word in ("PUT", "POST", "GET /v1", "cas:", "that this key can see", "projects.0"):
            assert api_word not in result.output, (api_word, result.output)


# -- people at a terminal -------------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_tables_and_progress_on_a_terminal(monkeypatch):
    screen = _Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setenv("COLUMNS", "60")
    output.print_table([{"name": "a", "message": "word " * 30}], ["name", "message"])
    lines = screen.getvalue().splitlines()
    assert "NAME" in lines[0] and "MESSAGE" in lines[0]
    assert len(lines) > 2  # the long cell wraps to the terminal's width instead of running past it

    errors = _Terminal()
    monkeypatch.setattr(sys, "stderr", errors)
    with output.progress_lines("verifying") as report:
        report(1, 2, "payments/a (slack): ok")
        report(2, 2, "payments/b (slack): ok")
    shown = errors.getvalue()
    assert "payments/b (slack): ok" in shown and "2/2" in shown
