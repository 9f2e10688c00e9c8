"""`hub serve`: the API under a production WSGI server."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from hub.cli.output import current_keyring, database
from hub.errors import KeyringUnavailable
from hub.storage import migrate


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host, port, threads):
    """Serve the API with waitress, a production WSGI server."""
    import waitress

    with database().connection_context():
        pending = migrate.pending(database())
        if pending:
            raise click.ClickException(f"The database schema is behind ({', '.join(pending)} not "
                                       "applied). Run 'hub db upgrade' first.")
        try:
            current_keyring()  # fail now, with the reason, rather than on the first request
        except KeyringUnavailable as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"hub serving on http://{host}:{port} (API docs at /docs)", err=True)
    waitress.serve(current_app._get_current_object(), host=host, port=port, threads=threads,
                   ident="hub")
