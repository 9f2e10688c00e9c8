"""`hub audit` and the CLI's own events: verify a chain, export it, check the export offline with
the public key alone, and see keyring rotations on record."""
import json

from hub.storage.models import AuditEvent


def cli(hub, *args, input=None):
    return hub.app.test_cli_runner().invoke(args=list(args), input=input)


def test_verify_export_and_check_offline(hub, tmp_path):
    hub.call("POST", "/v1/projects/payments/secrets", json={"name": "db", "values": {"pw": "cli-secret-pw"}})
    ok = cli(hub, "audit", "verify", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] is True
    exported = cli(hub, "audit", "export", "--org", "acme")
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.output.splitlines()]
    assert lines[-1]["type"] == "checkpoint" and lines[-1]["seq"] == lines[-2]["seq"]
    assert "cli-secret-pw" not in exported.output
    (tmp_path / "audit.jsonl").write_text(exported.output)
    key = cli(hub, "audit", "public-key").output.strip()
    offline = cli(hub, "audit", "verify", "--file", str(tmp_path / "audit.jsonl"), "--public-key", key)
    assert offline.exit_code == 0, offline.output
    tampered = exported.output.replace('"secret.create"', '"secret.delete"', 1)
    (tmp_path / "tampered.jsonl").write_text(tampered)
    bad = cli(hub, "audit", "verify", "--file", str(tmp_path / "tampered.jsonl"), "--public-key", key)
    assert bad.exit_code == 1 and "was changed" in bad.output


def test_verify_in_the_database_names_the_first_changed_event(hub):
    hub.call("POST", "/v1/projects/payments/secrets", json={"name": "db", "values": {"pw": "x"}})
    with hub.app.app_context():
        seq = AuditEvent.select().order_by(AuditEvent.seq.desc()).first().seq
        AuditEvent.update(actor="hub_pk_someoneelse00").where(AuditEvent.seq == seq).execute()
    result = cli(hub, "audit", "verify")
    assert result.exit_code == 1
    assert f"event {seq}: its content does not match its hash" in result.output
    assert "Traceback" not in result.output


def test_mistakes_are_sentences(hub, tmp_path):
    assert "--public-key" in cli(hub, "audit", "verify", "--file", "-").output
    (tmp_path / "e.jsonl").write_text("")
    bad_key = cli(hub, "audit", "verify", "--file", str(tmp_path / "e.jsonl"), "--public-key", "nope")
    assert bad_key.exit_code == 2 and "base64 public key" in bad_key.output
    assert "No org named 'nope'" in cli(hub, "audit", "verify", "--org", "nope").output
    assert "ISO 8601" in cli(hub, "audit", "export", "--since", "yesterday").output


def test_rotation_and_cli_changes_are_on_record_as_the_operator(hub):
    assert cli(hub, "crypto", "rotate").exit_code == 0
    assert cli(hub, "projects", "create", "from-cli", "--org", "acme").exit_code == 0
    events = hub.call("GET", "/v1/audit-events?limit=5").json["items"]
    assert [e["action"] for e in events[:2]] == ["project.create", "crypto.rotate"]
    assert all(e["actor"].startswith("cli:") for e in events[:2])
    assert cli(hub, "audit", "checkpoint", "--force", "--json").exit_code == 0
    assert cli(hub, "audit", "verify").exit_code == 0


def test_the_verifier_in_docs_audit_md_checks_a_real_export(hub):
    import re
    from pathlib import Path

    block = re.findall(r"```python\n(.*?)```", (Path(__file__).parent.parent / "docs" / "audit.md").read_text(), re.S)
    assert len(block) == 1
    namespace = {}
    exec(block[0], namespace)
    hub.call("POST", "/v1/projects/payments/secrets", json={"name": "db", "values": {"pw": "x"}})
    lines = cli(hub, "audit", "export", "--org", "acme").output.splitlines()
    key = cli(hub, "audit", "public-key").output.strip()
    assert namespace["check"](lines, key) is True
    tampered = [line.replace('"outcome": "success"', '"outcome": "denied"', 1) for line in lines]
    assert namespace["check"](tampered, key) is False
