"""Shared steps of the OAuth tests: an OAuth app pointed at a fake provider, a connection through
the fake's consent page, and the hub's callback."""
from __future__ import annotations

import contextlib
import threading
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

from werkzeug.serving import make_server

PROJECT = "/v1/projects/payments"
KINDS = {"slack": "slack", "github": "github", "jira": "atlassian"}  # hub provider -> fake kind
RETURN_ORIGIN = "https://app.example.com"


def make_oauth_app(hub, server, provider: str, name: str = "main", **extra) -> dict:
    body = {"provider": provider, "name": name, "client_id": server.client_id,
            "client_secret": "csecret", "authorize_url": server.authorize_url,
            "token_url": server.token_url, "api_base_url": server.api_base_url,
            "redirect_origins": [RETURN_ORIGIN]} | extra
    resp = hub.call("POST", "/v1/oauth-apps", json=body)
    assert resp.status_code == 201, resp.json
    return resp.json


def start(hub, provider: str, name: str = "team", app: str = "main", **extra):
    return hub.call("POST", f"{PROJECT}/integrations:connect",
                    json={"provider": provider, "name": name, "oauth_app": app} | extra)


def callback(hub, location: str):
    """The hub's callback as the person's browser follows the provider's redirect."""
    parts = urlsplit(location)
    assert parts.path == "/v1/oauth/callback", location
    return hub.call("GET", f"{parts.path}?{parts.query}", key=None)


def connect(hub, server, provider: str, name: str = "team", **extra) -> str:
    """A whole connection; returns the integration id."""
    started = start(hub, provider, name, **extra)
    assert started.status_code == 201, started.json
    done = callback(hub, server.consent(started.json["authorize_url"]))
    assert done.status_code in (200, 303), done.get_data(as_text=True)
    if done.status_code == 303:
        return parse_qs(urlsplit(done.headers["Location"]).query)["integration_id"][0]
    listed = hub.call("GET", f"{PROJECT}/integrations?provider={provider}").json["items"]
    return next(item["id"] for item in listed if item["name"] == name)


def events(hub, action: str | None = None) -> list[dict]:
    query = f"?action={action}&limit=200" if action else "?limit=200"
    resp = hub.call("GET", f"{PROJECT}/audit-events{query}")
    assert resp.status_code == 200, resp.json
    return resp.json["items"]


@contextlib.contextmanager
def served(app):
    """The app served on 127.0.0.1 by a threaded werkzeug server: each request its own thread
    (and database connection), as concurrent clients reach a real hub."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def get(url: str, secret: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"}
                                     if secret else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
