"""Concurrent writers never fork an org's chain: 50 writers in two processes on one database."""
import subprocess
import sys
import textwrap

from hub.audit import verification
from hub.storage.models import AuditEvent

WRITER = textwrap.dedent("""
    import sys, threading
    from hub.app import create_app
    from hub import tenancy
    from hub.audit import log
    from hub.storage.models import Org
    url, root_key, instance, org_id, threads, each = sys.argv[1:7]
    app = create_app({"DATABASE_URL": url, "ROOT_KEY": root_key, "INSTANCE_PATH": instance,
                      "PLUGINS_ENTRYPOINTS": False})
    db = app.extensions["hub.db"]
    barrier = threading.Barrier(int(threads))
    errors = []

    def write(n):
        try:
            with app.app_context(), db.connection_context():
                keyring = app.extensions["hub.keyring"].get()
                actor = tenancy.operator(Org(id=org_id), signer=keyring)
                barrier.wait(timeout=30)
                for i in range(int(each)):
                    log.record(actor, "test.concurrent", target_id=f"{n}-{i}")
        except Exception as exc:
            errors.append(repr(exc))

    workers = [threading.Thread(target=write, args=(n,)) for n in range(int(threads))]
    for w in workers: w.start()
    for w in workers: w.join(120)
    if hasattr(db, "close_all"): db.close_all()
    print("errors:", errors)
    sys.exit(1 if errors else 0)
""")


def test_fifty_writers_in_two_processes_leave_one_unbroken_chain(hub, tmp_path):
    config = hub.app.config
    url = config["DATABASE_URL"]
    args = [url, config["ROOT_KEY"], str(tmp_path / "instance"), hub.org.id, "25", "4"]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        written = AuditEvent.select().where(AuditEvent.action == "test.concurrent").count()
        report = verification.check_org(hub.org.id, hub.app.extensions["hub.keyring"].get().verify_keys())
    assert written == 2 * 25 * 4
    assert report.ok, report.problem
