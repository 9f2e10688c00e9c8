"""`hub serve`: the API under a production WSGI server."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from hub.cli.output import current_keyring, database, fails_cleanly
from hub.errors import DatabaseUnavailable
from hub.storage import migrate
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


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 1024))
@with_appcontext
def serve_command(host, port, threads):
    """Serve the API with waitress, a production WSGI server."""
    import waitress

    _check_ready()
    try:
        # Bind before saying "serving": a port in use is a message, not a traceback after it.
        server = waitress.create_server(current_app._get_current_object(), host=host, port=port,
                                        threads=threads, ident="hub")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"Cannot listen on {host}:{port} ({reason}): choose another "
                                   "port with --port, or stop what is listening there.") from None
    listening = getattr(server, "effective_port", port)  # --port 0: the port the system chose
    click.echo(f"hub serving on http://{host}:{listening} (API docs at /docs)", err=True)
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C: a normal way to stop
        pass
