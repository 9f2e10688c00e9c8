"""A hub served over real HTTP on loopback, for the tests that drive it as an outside client
would (generated clients, schemathesis)."""
from __future__ import annotations

import contextlib
import logging
import threading

from werkzeug.serving import make_server


@contextlib.contextmanager
def served(app):
    """Serve `app` on 127.0.0.1 (a free port, a thread per request); yields its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-hub", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
