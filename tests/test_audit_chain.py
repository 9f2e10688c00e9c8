"""The audit chain catches what an attacker with write access to the database would try: an edited,
a deleted, an inserted and a swapped event, a rewrite with every hash recomputed, a truncated tail,
and a forged checkpoint; an export is checked offline with the public key alone."""
import base64
import hashlib
import io
import json
import subprocess
import sys
import textwrap

import pytest

from hub import tenancy
from hub.audit import export, log, verification
from hub.audit.chain import event_hash
from hub.storage.models import AuditCheckpoint, AuditEvent, database


@pytest.fixture
def chain(hub):
    """Ten events in the org's chain, a checkpoint at the end; yields (keyring, public keys)."""
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        keyring = hub.app.extensions["hub.keyring"].get()
        actor = tenancy.operator(hub.org, signer=keyring)
        for i in range(10):
            log.record(actor, "test.event", target_type="thing", target_id=str(i), project=hub.project,
                       details={"i": i})
        log.sign_head(keyring, hub.org.id, only_if_due=False)
        yield keyring, keyring.verify_keys()


def _problem(hub, keys):
    return verification.check_org(hub.org.id, keys).problem


def _seq_of(action_seq_offset=0):
    return AuditEvent.select().order_by(AuditEvent.seq.desc()).first().seq - action_seq_offset


def test_untouched_chain_verifies(hub, chain):
    report = verification.check_org(hub.org.id, chain[1])
    assert report.ok and report.checkpoints >= 2


def test_edited_event_is_named(hub, chain):
    target = _seq_of(3)
    AuditEvent.update(details={"i": 999}).where(AuditEvent.seq == target).execute()
    assert _problem(hub, chain[1]) == f"event {target}: its content does not match its hash (the event was changed)"


def test_deleted_event_is_named(hub, chain):
    target = _seq_of(4)
    AuditEvent.delete().where(AuditEvent.seq == target).execute()
    assert _problem(hub, chain[1]).startswith(f"event {target}: missing")


def test_inserted_event_is_named(hub, chain):
    target = _seq_of(2)
    row = AuditEvent.get(AuditEvent.seq == target)
    with database.atomic():
        AuditEvent.update(seq=AuditEvent.seq + 1000).where(AuditEvent.seq >= target).execute()
        AuditEvent.update(seq=AuditEvent.seq - 999).where(AuditEvent.seq >= target + 1000).execute()
        fake = dict(row.__data__, id="00000000-0000-7000-8000-000000000000", details={"forged": True})
        AuditEvent.insert(**fake).execute()
    problem = _problem(hub, chain[1])
    assert problem.startswith(f"event {target}:"), problem


def test_swapped_events_are_named(hub, chain):
    a, b = _seq_of(5), _seq_of(4)
    with database.atomic():
        AuditEvent.update(seq=-1).where(AuditEvent.seq == a).execute()
        AuditEvent.update(seq=a).where(AuditEvent.seq == b).execute()
        AuditEvent.update(seq=b).where(AuditEvent.seq == -1).execute()
    assert _problem(hub, chain[1]).startswith(f"event {a}:")


def _rewrite(hub, target):
    """Change event `target` and recompute every hash after it, as an attacker with the database
    (but not the signing key) would."""
    from hub.timestamps import to_iso

    rows = list(AuditEvent.select().where(AuditEvent.org == hub.org.id).order_by(AuditEvent.seq))
    prev = rows[0].prev_hash
    with database.atomic():
        for row in rows:
            if row.seq == target:
                row.details = {"i": "rewritten"}
            record = {"id": row.id, "org": row.org_id, "seq": row.seq, "at": to_iso(row.at),
                      "actor": row.actor, "action": row.action, "target_type": row.target_type,
                      "target_id": row.target_id, "project": row.project_handle,
                      "project_id": row.project_id, "outcome": row.outcome,
                      "request_id": row.request_id, "client_ip": row.client_ip, "details": row.details}
            digest = event_hash(prev, record)
            AuditEvent.update(details=row.details, prev_hash=prev, hash=digest).where(AuditEvent.id == row.id).execute()
            prev = digest
    from hub.storage.models import AuditHead
    AuditHead.update(hash=prev).where(AuditHead.org == hub.org.id).execute()


def test_rewrite_with_recomputed_hashes_is_caught_by_a_checkpoint(hub, chain):
    _rewrite(hub, _seq_of(6))
    problem = _problem(hub, chain[1])
    assert "history was rewritten" in problem, problem


def test_truncated_tail_is_caught_by_the_last_checkpoint(hub, chain):
    last = _seq_of(0)
    AuditEvent.delete().where(AuditEvent.seq == last).execute()
    assert "missing" in _problem(hub, chain[1])


def test_forged_checkpoint_is_refused(hub, chain):
    cp = AuditCheckpoint.select().order_by(AuditCheckpoint.seq.desc()).first()
    AuditCheckpoint.update(hash=hashlib.sha256(b"x").hexdigest()).where(AuditCheckpoint.id == cp.id).execute()
    assert "signature does not verify" in _problem(hub, chain[1])


def _export(hub):
    return "".join(json.dumps(line) + "\n" for line in export.lines_after(hub.org.id, 0))


def test_export_checks_offline_with_the_public_key_alone(hub, chain, tmp_path):
    text = _export(hub)
    key = next(iter(chain[1].values()))
    reports = verification.check_export(io.StringIO(text), key)
    assert [r.ok for r in reports] == [True]
    # The same check in a process that has neither the database nor the root key.
    (tmp_path / "export.jsonl").write_text(text)
    script = textwrap.dedent(f"""
        import base64, sys
        from hub.audit.verification import check_export
        reports = check_export(open({str(tmp_path / 'export.jsonl')!r}), base64.b64decode({base64.b64encode(key).decode()!r}))
        print("ok" if all(r.ok for r in reports) else reports)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr
    edited = text.replace('"i": 3', '"i": 4', 1)
    assert not verification.check_export(io.StringIO(edited), key)[0].ok
    wrong_key = bytes(32)
    assert "signature does not verify" in verification.check_export(io.StringIO(text), wrong_key)[0].problem


def test_removed_checkpoints_and_a_rewrite_are_caught_by_the_head_and_the_cadence(hub, chain):
    AuditCheckpoint.delete().execute()
    assert "checkpoints were removed" in _problem(hub, chain[1])
    # With the head's own record of its last checkpoint forged away too, and history rewritten
    # with every hash recomputed, the chain holds together but lacks the checkpoint the hub
    # always signs with an org's first event.
    from hub.storage.models import AuditHead
    AuditHead.update(checkpoint_seq=0, checkpoint_at=None).execute()
    _rewrite(hub, _seq_of(6))
    assert _problem(hub, chain[1]).startswith("event 1: no checkpoint")


def test_events_removed_after_the_last_checkpoint_are_caught_by_the_head(hub, chain):
    keyring, keys = chain
    actor = tenancy.operator(hub.org)  # no signer: these events are not yet covered
    for i in range(3):
        log.record(actor, "test.tail", target_id=str(i))
    assert verification.check_org(hub.org.id, keys).ok
    last = _seq_of(0)
    AuditEvent.delete().where(AuditEvent.seq == last).execute()
    assert _problem(hub, keys).startswith(f"event {last}: missing")


def test_an_export_cut_before_its_last_checkpoint_does_not_verify(hub, chain):
    lines = _export(hub).splitlines()
    cut = "\n".join(line for line in lines if '"type": "checkpoint"' not in line or line != lines[-1])
    key = next(iter(chain[1].values()))
    report = verification.check_export(io.StringIO(cut), key)[0]
    assert not report.ok and "no checkpoint covers the end" in report.problem
