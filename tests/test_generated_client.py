"""A client generated from the live /openapi.json by openapi-python-client walks the README's
scenario against a hub served on loopback, and reads problems as typed fields: the proof that
the document tells the truth to the tools that trust it."""
import importlib
import subprocess
import sys
import uuid

import pytest
from live_server import served

TOKEN = "xoxb-0000-generated-client"


@pytest.fixture
def slack(httpserver):
    httpserver.expect_request("/api/auth.test", method="POST").respond_with_json(
        {"ok": True, "team": "Acme", "team_id": "T1", "user": "hubbot", "user_id": "U1"})
    return httpserver.url_for("/api")


def _generate(base_url: str, tmp_path, name: str):
    """Generate a client package from the served document and import it."""
    import httpx

    document = tmp_path / "openapi.json"
    document.write_bytes(httpx.get(f"{base_url}/openapi.json").content)
    config = tmp_path / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: nothing to fetch, nothing to install
    cli = [sys.executable, "-c", "from openapi_python_client.cli import app; app()"]
    done = subprocess.run(cli + ["generate", "--path", str(document), "--config", str(config),
                                 "--meta", "none", "--output-path", str(tmp_path / name)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    # Every schema and operation made it: the generator warns about any it had to leave out.
    assert "Warning" not in done.stdout and "WARNING" not in done.stdout, done.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


def _mod(package, dotted: str):
    return importlib.import_module(f"{package.__name__}.{dotted}")


def test_a_generated_client_walks_the_readme_scenario(hub, slack, tmp_path):
    with served(hub.app) as base_url:
        name = f"hub_client_{uuid.uuid4().hex[:8]}"
        client_pkg = _generate(base_url, tmp_path, name)
        try:
            _walk(client_pkg, base_url, hub.owner_secret, slack)
        finally:
            for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                del sys.modules[module]


def _walk(pkg, base_url, owner_secret, slack_api):
    api = lambda dotted: _mod(pkg, f"api.{dotted}")  # noqa: E731
    models = _mod(pkg, "models")
    owner = pkg.AuthenticatedClient(base_url=base_url, token=owner_secret)

    health = api("health.get_health").sync(client=pkg.Client(base_url=base_url))
    assert health.status.value == "ok"

    # A project, and a key limited to it.
    project = api("projects.create_project").sync(client=owner, body=models.ProjectCreate(
        handle="web", display_name="Web shop"))
    assert isinstance(project, models.Project) and project.handle == "web"
    key = api("api_keys.create_api_key").sync(client=owner, body=models.ApiKeyCreate(
        name="web-ci", role=models.ApiKeyCreateRole.OWNER, projects=["web"]))
    assert isinstance(key, models.ApiKeyCreated) and key.secret.startswith("hub_sk_")
    assert key.projects == ["web"]
    ci = pkg.AuthenticatedClient(base_url=base_url, token=key.secret)

    # An integration, verified against the (fake) provider; the stored result parses as a model.
    create = api("integrations.create_integration")
    made = []
    for name in ("alerts", "deploys"):
        made.append(create.sync(project="web", client=ci, body=models.IntegrationCreate(
            name=name, provider=models.IntegrationCreateProvider.SLACK,
            credentials=models.IntegrationCreateCredentials.from_dict({"token": TOKEN}),
            config=models.IntegrationCreateConfig.from_dict({"api_base_url": slack_api}),
            tags=["ops"])))
    assert all(isinstance(m, models.Integration) for m in made), made
    assert made[0].last_verification is None and made[0].credentials.fields == ["token"]
    result = api("integrations.verify_integration").sync(
        project="web", integration_id=made[0].id, client=ci)
    assert isinstance(result, models.VerificationResult), result
    assert result.ok is True and result.error is None
    assert result.identity.additional_properties["team"] == "Acme"
    again = api("integrations.get_integration").sync(project="web", integration_id=made[0].id,
                                                     client=ci)
    assert isinstance(again.last_verification, models.VerificationResult)
    assert again.last_verification.ok is True

    # The list, a page at a time by cursor.
    listing = api("integrations.list_integrations")
    first = listing.sync(project="web", client=ci, limit=1)
    assert first.has_more is True and isinstance(first.next_cursor, str)
    second = listing.sync(project="web", client=ci, limit=1, cursor=first.next_cursor)
    assert second.has_more is False and second.next_cursor is None
    assert {first.items[0].id, second.items[0].id} == {m.id for m in made}

    # A secret rotated with compare-and-set, then resolved into a template.
    secret = api("secrets.create_secret").sync(project="web", client=ci, body=models.SecretCreate(
        name="db", values=models.SecretCreateValues.from_dict({"password": "first"})))
    assert secret.version.version == 1 and secret.current_version == 1
    update = api("secrets.update_secret")
    rotated = update.sync(project="web", name="db", client=ci, body=models.SecretUpdate(
        values=models.SecretUpdateValues.from_dict({"password": "second"}), cas=1))
    assert isinstance(rotated, models.SecretWritten) and rotated.version.version == 2
    stale = update.sync_detailed(project="web", name="db", client=ci, body=models.SecretUpdate(
        values=models.SecretUpdateValues.from_dict({"password": "third"}), cas=1))
    assert stale.status_code == 409
    assert isinstance(stale.parsed, models.Problem)  # a typed problem, not a dropped body
    assert stale.parsed.status == 409 and "version" in stale.parsed.detail
    assert stale.parsed.type_.startswith("urn:hub:problem:")
    resolved = api("secrets.resolve_secrets").sync(project="web", client=ci, body=models.Resolve(
        template="pw=${secret:db.password}"))
    assert resolved.result == "pw=second"

    # A 404 and a 401 read as problems too, `status` an integer.
    missing = api("integrations.get_integration").sync(
        project="web", integration_id=str(uuid.uuid4()), client=ci)
    assert isinstance(missing, models.Problem) and missing.status == 404
    assert isinstance(missing.detail, str) and missing.instance.startswith("/v1/projects/web/")
    nobody = pkg.AuthenticatedClient(base_url=base_url, token="hub_sk_" + "0" * 38)
    refused = api("projects.list_projects").sync(client=nobody)
    assert isinstance(refused, models.Problem) and refused.status == 401
