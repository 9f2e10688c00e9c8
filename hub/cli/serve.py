"""`hub serve`: the API under a production WSGI server.

One process (the default, `--workers 1`) is waitress, threaded. `--workers N` (N > 1) is gunicorn's
pre-forking master with N `gthread` workers of `--threads` threads each, on PostgreSQL only (SQLite
is for one process). Either way the port is bound before "serving" is printed, so a port in use is
one sentence. The master forks the workers with no database connection open (the check before
serving returns its pooled connection and the pool is emptied), so each worker opens its own.
"""
from __future__ import annotations

import socket

import click
from flask import current_app
from flask.cli import with_appcontext

from hub.cli.output import current_keyring, database, fails_cleanly
from hub.errors import DatabaseUnavailable
from hub.storage import migrate
from hub.storage.database import is_sqlite
from hub.storage.models import Org


@fails_cleanly
def _check_ready() -> None:
    """Refuse to serve, with the reason, what would fail on every request."""
    if not Org.table_exists():
        raise DatabaseUnavailable("The database holds no hub (it has no tables). Run 'hub init' first.")
    pending = migrate.pending(database())
    if pending:
        raise DatabaseUnavailable(f"The database schema is behind ({', '.join(pending)} not applied). "
                                  "Run 'hub db upgrade' first.")
    current_keyring()  # fail now, with the reason, rather than on the first request


def _cannot_listen(host, port, exc: OSError) -> click.ClickException:
    reason = exc.strerror or str(exc)
    return click.ClickException(f"Cannot listen on {host}:{port} ({reason}): choose another "
                                "port with --port, or stop what is listening there.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes; more than 1 runs gunicorn and needs PostgreSQL.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 1024),
              help="Threads per worker process.")
@with_appcontext
def serve_command(host, port, workers, threads):
    """Serve the API: waitress in one process, or gunicorn with --workers N."""
    if workers > 1:
        _refuse_many_workers_on_sqlite(workers)
        _gunicorn_module()  # a missing gunicorn is a sentence before anything is checked or bound
    _check_ready()
    if workers > 1:
        _serve_gunicorn(host, port, workers, threads)
    else:
        _serve_waitress(host, port, threads)


def _refuse_many_workers_on_sqlite(workers: int) -> None:
    if is_sqlite(database()):
        raise click.ClickException(
            f"--workers {workers} needs PostgreSQL: SQLite is for one process. Set HUB_DATABASE_URL "
            "to a postgresql:// database, or serve with --workers 1 (and more --threads).")


def _gunicorn_module():
    try:
        import gunicorn.app.base
    except ImportError:
        raise click.ClickException("--workers needs gunicorn (Linux and other Unix systems): pip "
                                   "install gunicorn, or serve with --workers 1.") from None
    return gunicorn.app.base


def _serve_waitress(host, port, threads) -> None:
    import waitress

    try:
        # Bind before saying "serving": a port in use is a message, not a traceback after it.
        server = waitress.create_server(current_app._get_current_object(), host=host, port=port,
                                        threads=threads, ident="hub")
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from None
    listening = getattr(server, "effective_port", port)  # --port 0: the port the system chose
    click.echo(f"hub serving on http://{host}:{listening} (API docs at /docs)", err=True)
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C: a normal way to stop
        pass


def _bind(host, port) -> socket.socket:
    """The listening socket, bound here (gunicorn inherits it as fd://N): gunicorn's own binding
    retries a port in use for seconds and then logs, where the hub says one sentence at once."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise _cannot_listen(host, port, exc) from None
    sock.set_inheritable(True)
    return sock


def _serve_gunicorn(host, port, workers, threads) -> None:
    base = _gunicorn_module()
    app = current_app._get_current_object()
    db = database()
    # Nothing connected before the fork: a pooled connection shared by the workers would
    # interleave their queries on one socket.
    if hasattr(db, "close_all"):
        db.close_all()
    elif not db.is_closed():
        db.close()
    sock = _bind(host, port)
    listening = sock.getsockname()[1]

    class HubGunicorn(base.BaseApplication):
        """gunicorn, configured here (not from sys.argv or GUNICORN_CMD_ARGS), serving this app."""

        def load_config(self):
            settings = {"bind": [f"fd://{sock.fileno()}"], "workers": workers, "threads": threads,
                        "worker_class": "gthread", "proc_name": "hub", "accesslog": None,
                        "errorlog": "-", "preload_app": False, "post_fork": _post_fork}
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 24+: no socket in ~
                settings["control_socket_disable"] = True
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self):
            return app

    def _post_fork(_server, _worker):
        # In the new worker: the pool must be empty (emptied before the fork), so the first
        # request opens this worker's own connection.
        if getattr(db, "_connections", None) or getattr(db, "_in_use", None):
            raise RuntimeError("a database connection was open across fork")

    click.echo(f"hub serving on http://{host}:{listening} with {workers} worker processes of "
               f"{threads} threads (API docs at /docs)", err=True)
    HubGunicorn().run()  # gunicorn exits the process itself (SIGINT, SIGTERM: a clean stop)
