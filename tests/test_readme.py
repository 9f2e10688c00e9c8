"""The README's walkthroughs, run as written against a real `hub serve`: documentation that
cannot drift from the hub. Needs curl and jq (as the README does); skipped without them."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
HUB = str(Path(sys.executable).with_name("hub"))

pytestmark = pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")),
                                reason="the README's walkthrough uses curl and jq")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _walkthrough(port: int, secret: str) -> str:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.S)
    script = "\n".join(b for b in blocks if "$HUB" in b or ".venv/bin/hub secrets" in b)
    assert "export HUB=http://127.0.0.1:8080" in script and "export HUB_KEY=hub_sk_..." in script
    return (script.replace("export HUB=http://127.0.0.1:8080", f"export HUB=http://127.0.0.1:{port}")
                  .replace("export HUB_KEY=hub_sk_...", f"export HUB_KEY={secret}")
                  .replace(".venv/bin/hub", HUB))


@pytest.fixture
def served_hub(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_INSTANCE_PATH"] = str(tmp_path / "instance")
    init = subprocess.run([HUB, "init", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    port = _free_port()
    log = open(tmp_path / "serve.log", "w")
    server = subprocess.Popen([HUB, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield port, json.loads(init.stdout)["secret"], env, tmp_path / "serve.log"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_readme_walkthroughs_work_as_written(served_hub, tmp_path):
    port, secret, env, server_log = served_hub
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = subprocess.run(["bash", "-c", _walkthrough(port, secret)], cwd=workdir, env=env,
                         input="first-api-key\nsecond-api-key\n", capture_output=True, text=True,
                         timeout=300)
    out, err = run.stdout, run.stderr
    assert "Traceback" not in err and "jq: error" not in err and "curl: (" not in err, err
    # Tenancy: health, a project, an app key limited to it, revocation.
    assert '{"status":"ok"}' in out
    assert '"handle":"checkout"' in out
    assert "No project 'default' that this key can see." in out
    assert "This API key was revoked." in out
    # Integrations: created active, rotated, disabled and re-enabled, verified, copied, deleted.
    assert out.count('"status": "active"') >= 2 and '"inactive"' in out
    assert '"project": "default"' in out
    # The token comes back once: through the audited door, to the app key.
    assert "xoxb-1234-5678-abcdef" not in out
    assert out.count("xoxb-1234-5678") == 1 and '{"token":"xoxb-1234-5678-rotated"}' in out
    assert '{"actor":"hub_pk_' in out and '"action":"integration.credentials.read","outcome":"success"}' in out
    assert "403" in out
    assert "The audit log does not verify" not in err
    # Secrets with curl: rotation, history, roll back, resolve, destroy, delete.
    assert '{"result":"postgres://app:first-pw@db:5432/app"}' in out
    assert '{"version":1,"state":"ENABLED"}' in out and '{"version":2,"state":"DESTROYED"}' in out
    # Secrets with the CLI: the value typed at the prompt is resolved from the version rolled back to.
    assert "Authorization: Bearer first-api-key" in out
    assert "second-api-key" not in out
    assert out.count("204") >= 3
    assert " ERROR " not in server_log.read_text()


def test_readme_postgresql_setup_works_as_written(tmp_path):
    """The production section's PostgreSQL block, run as written (with a database name of its own)."""
    if not shutil.which("createdb"):
        pytest.skip("the PostgreSQL block uses createdb (PostgreSQL's client tools)")
    block = next(b for b in re.findall(r"```sh\n(.*?)```", README.read_text(), re.S) if "createdb" in b)
    name = f"hub_readme_{os.getpid()}_{int(time.time())}"
    script = block.replace("hub_prod", name).replace(".venv/bin/hub", HUB)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_INSTANCE_PATH"] = str(tmp_path / "instance")
    try:
        run = subprocess.run(["bash", "-ec", script], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "secret:   hub_sk_" in run.stdout and "schema is up to date" in run.stdout
        assert "Traceback" not in run.stderr
    finally:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name],
                       capture_output=True, timeout=60)
