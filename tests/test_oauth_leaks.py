"""No OAuth token, code, state, verifier or client secret in any read, list, audit event, log line
or (in plaintext) the database: only the audited credential door hands tokens out."""
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg2

from tests.oauth_helpers import KINDS, PROJECT, callback, make_oauth_app, start

CLIENT_SECRET = "client-secret-never-shown-3141"


def test_no_token_value_anywhere_but_the_door(hub, fake_oauth, caplog, backend):
    caplog.set_level(logging.DEBUG)
    seen_secrets = {CLIENT_SECRET}
    ids = []
    servers = []
    for provider in ("slack", "github", "jira"):
        server = fake_oauth(KINDS[provider], client_secret=CLIENT_SECRET, access_ttl=30)
        servers.append(server)
        make_oauth_app(hub, server, provider, client_secret=CLIENT_SECRET)
        started = start(hub, provider).json
        location = server.consent(started["authorize_url"])
        seen_secrets |= {started["state"], parse_qs(urlsplit(location).query)["code"][0]}
        callback(hub, location)
        listed = hub.call("GET", f"{PROJECT}/integrations?provider={provider}").json["items"]
        ids.append(listed[0]["id"])
        hub.call("GET", f"{PROJECT}/integrations/{ids[-1]}/credentials")  # refreshes (30 s)
        hub.call("POST", f"{PROJECT}/integrations/{ids[-1]}:refresh")
        hub.call("POST", f"{PROJECT}/integrations/{ids[-1]}:verifyConfig")
    servers[0].revoke_all()
    hub.call("GET", f"{PROJECT}/integrations/{ids[0]}/credentials")  # a refused refresh
    for server in servers:
        seen_secrets |= server.issued_access_tokens | server.issued_refresh_tokens
        assert server.refresh_grants >= 2

    texts = []
    for path in ([f"{PROJECT}/integrations", "/v1/oauth-apps", f"{PROJECT}/audit-events?limit=200",
                  "/v1/audit-events?limit=200", "/v1/openapi.json", "/openapi.json"]
                 + [f"{PROJECT}/integrations/{i}" for i in ids]):
        texts.append(hub.call("GET", path).get_data(as_text=True))
    for app in hub.call("GET", "/v1/oauth-apps").json["items"]:
        texts.append(hub.call("GET", f"/v1/oauth-apps/{app['id']}").get_data(as_text=True))
    # Every log record of the hub (the urllib3 pool's are the test's browser at the fake's consent
    # page, whose URL carries the state by design).
    texts += [record.getMessage() for record in caplog.records
              if not record.name.startswith("urllib3")]
    texts.append(_database_text(hub, backend))
    everything = "\n".join(texts)
    assert "integration.refresh" in everything and "integration.connect" in everything
    leaked = sorted(s[:12] for s in seen_secrets if s in everything)
    assert leaked == [], f"found in reads, lists, events, logs or the database: {leaked}"


def _database_text(hub, backend) -> str:
    url = hub.app.config["DATABASE_URL"]
    if backend == "sqlite":
        folder = Path(url[len("sqlite:///"):]).parent
        return "".join(p.read_bytes().decode("latin-1") for p in folder.glob("hub.db*"))
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            dumped = []
            for table in ("integration", "oauth_app", "oauth_pending", "audit_event"):
                cur.execute(f'SELECT * FROM "{table}"')
                for row in cur.fetchall():  # bytea columns as their raw bytes
                    dumped.append("".join(bytes(v).decode("latin-1") if isinstance(v, memoryview)
                                          else str(v) for v in row))
            return "\n".join(dumped)
    finally:
        conn.close()
