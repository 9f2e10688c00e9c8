"""The one table the OWASP tests walk: for each operation of /openapi.json, the permissions it
needs (API.md) and a valid request, built on a `World` of objects in the caller's org.

The tests walk the OpenAPI document, not this table: an operation the document lists and this
table lacks fails with a message saying to add it here (so routes merged later are covered), and
an entry no operation matches fails too. Path parameters are filled by `World.param`.
"""
from __future__ import annotations

import dataclasses
import uuid

from hub.tenancy import permissions as p

SLACK_TOKEN = "xoxb-1111-2222-owasp-walk-token"
ANY = frozenset()  # any valid key
METHODS = ("get", "post", "put", "patch", "delete")


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclasses.dataclass
class World:
    """Objects of one org that every path parameter names."""

    project: str
    integration: str
    org_integration: str
    secret: str
    key_id: str
    config: dict
    oauth_app: str
    oauth_integration: str

    def param(self, path: str, name: str) -> str:
        if name == "integration_id":
            if path.endswith(":refresh"):
                return self.oauth_integration
            return self.org_integration if path.startswith("/v1/integrations") else self.integration
        values = {"project": self.project, "name": self.secret, "version": "1",
                  "key_id": self.key_id, "provider": "slack", "app_id": self.oauth_app}
        if name not in values:
            raise AssertionError(f"Path parameter {{{name}}} of {path}: teach World.param in "
                                 "tests/owasp_routes.py what to put there.")
        return values[name]

    def url(self, path: str, params: list[str]) -> str:
        for name in params:
            path = path.replace("{" + name + "}", self.param(path, name))
        return path


_OAUTH = {}  # one fake Slack OAuth server per test process, started on first use


def _fake_slack_oauth():
    if "slack" not in _OAUTH:
        from hub.testing.fake_oauth import FakeOAuthServer

        _OAUTH["slack"] = FakeOAuthServer(kind="slack", client_id="cid",
                                          client_secret="csecret").start()
    return _OAUTH["slack"]


def _connected(hub, key: str, project: str) -> tuple[str, str]:
    """An OAuth app of the org and an integration connected through it (the fake's consent)."""
    from urllib.parse import parse_qs, urlsplit

    server = _fake_slack_oauth()
    app = hub.call("POST", "/v1/oauth-apps", key=key, json={
        "provider": "slack", "name": uniq("app"), "client_id": "cid", "client_secret": "csecret",
        "authorize_url": server.authorize_url, "token_url": server.token_url,
        "api_base_url": server.api_base_url, "redirect_origins": ["https://app.example.com"]})
    assert app.status_code == 201, app.json
    name = uniq("oauth")
    started = hub.call("POST", f"/v1/projects/{project}/integrations:connect", key=key, json={
        "provider": "slack", "name": name, "oauth_app": app.json["id"],
        "return_to": "https://app.example.com/done"})
    assert started.status_code == 201, started.json
    location = urlsplit(server.consent(started.json["authorize_url"]))
    done = hub.call("GET", f"{location.path}?{location.query}", key=None)
    assert done.status_code == 303, done.get_data(as_text=True)
    integration = parse_qs(urlsplit(done.headers["Location"]).query)["integration_id"][0]
    return app.json["id"], integration


def build_world(hub, fake_provider, owner_secret=None) -> World:
    """A project with an integration, an org-wide integration shared with it, a secret with
    version 1, a key with only keys:admin (something to read and revoke), and an OAuth app with
    an integration connected through it."""
    key = owner_secret or "owner"
    fake_provider.expect_request("/api/auth.test").respond_with_json(
        {"ok": True, "team": "Acme", "team_id": "T1", "user": "bot", "user_id": "U1"})
    config = {"api_base_url": fake_provider.url_for("/api")}
    project = uniq("w")

    def made(method, path, body):
        resp = hub.call(method, path, key=key, json=body)
        assert resp.status_code == 201, (path, resp.status_code, resp.json)
        return resp.json

    made("POST", "/v1/projects", {"handle": project})
    integration = made("POST", f"/v1/projects/{project}/integrations", {
        "name": "alerts", "provider": "slack", "credentials": {"token": SLACK_TOKEN},
        "config": config})["id"]
    shared = made("POST", "/v1/integrations", {
        "name": uniq("shared"), "provider": "slack", "credentials": {"token": SLACK_TOKEN},
        "config": config, "projects": [project]})["id"]
    made("POST", f"/v1/projects/{project}/secrets", {"name": "db", "values": {"password": "pw"}})
    victim = made("POST", "/v1/api-keys", {"name": uniq("victim"), "permissions": [p.KEYS_ADMIN]})
    oauth_app, oauth_integration = _connected(hub, key, project)
    return World(project=project, integration=integration, org_integration=shared, secret="db",
                 key_id=victim["id"], config=config, oauth_app=oauth_app,
                 oauth_integration=oauth_integration)


@dataclasses.dataclass(frozen=True)
class Route:
    needs: frozenset
    body: object = None  # World -> dict, for operations that take one
    query: object = None  # World -> "?..."
    destroys: bool = False  # a success removes a World object: build a new World after it
    # The org's own configuration (OAuth apps), not a project's: a key of the org limited to other
    # projects may read it (it names no project); another org's keys still get 404.
    org_level: bool = False


def _integration(w: World) -> dict:
    return {"name": uniq("i"), "provider": "slack", "credentials": {"token": SLACK_TOKEN},
            "config": w.config}


P = "/v1/projects/{project}"
I = f"{P}/integrations/{{integration_id}}"
S = f"{P}/secrets/{{name}}"
V = f"{S}/versions/{{version}}"
O = "/v1/integrations/{integration_id}"

ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/v1/projects"): Route(ANY),
    ("POST", "/v1/projects"): Route(frozenset({p.PROJECTS_ADMIN}), body=lambda w: {"handle": uniq("p")}),
    ("GET", P): Route(ANY),
    ("DELETE", P): Route(frozenset({p.PROJECTS_ADMIN}), destroys=True),
    ("GET", "/v1/api-keys"): Route(frozenset({p.KEYS_ADMIN})),
    ("POST", "/v1/api-keys"): Route(frozenset({p.KEYS_ADMIN}), body=lambda w: {
        "name": uniq("k"), "permissions": [p.KEYS_ADMIN]}),
    ("GET", "/v1/api-keys/{key_id}"): Route(frozenset({p.KEYS_ADMIN})),
    ("DELETE", "/v1/api-keys/{key_id}"): Route(frozenset({p.KEYS_ADMIN})),
    ("GET", "/v1/providers"): Route(ANY),
    ("GET", "/v1/providers/{provider}"): Route(ANY),
    ("POST", "/v1/providers/{provider}:verifyConfig"): Route(
        frozenset({p.INTEGRATIONS_VERIFY}),
        body=lambda w: {"credentials": {"token": SLACK_TOKEN}, "config": w.config}),
    ("GET", f"{P}/integrations"): Route(frozenset({p.INTEGRATIONS_READ})),
    ("POST", f"{P}/integrations"): Route(frozenset({p.INTEGRATIONS_WRITE}), body=_integration),
    ("POST", f"{P}/integrations/copy"): Route(
        frozenset({p.INTEGRATIONS_WRITE, p.INTEGRATIONS_READ}), body=lambda w: {
            "source_project_id": w.project, "source_integration_id": w.integration,
            "name": uniq("c")}),
    ("GET", I): Route(frozenset({p.INTEGRATIONS_READ})),
    ("PUT", I): Route(frozenset({p.INTEGRATIONS_WRITE}), body=lambda w: {"description": "walked"}),
    ("DELETE", I): Route(frozenset({p.INTEGRATIONS_WRITE}), destroys=True),
    ("POST", f"{I}:verifyConfig"): Route(frozenset({p.INTEGRATIONS_VERIFY}), body=lambda w: {}),
    ("GET", f"{I}/credentials"): Route(frozenset({p.CREDENTIALS_READ})),
    ("GET", f"{P}/credentials"): Route(frozenset({p.CREDENTIALS_READ})),
    ("GET", "/v1/integrations"): Route(frozenset({p.INTEGRATIONS_READ})),
    ("POST", "/v1/integrations"): Route(frozenset({p.INTEGRATIONS_WRITE}), body=lambda w: {
        **_integration(w), "projects": [w.project]}),
    ("GET", "/v1/integrations/credentials"): Route(frozenset({p.CREDENTIALS_READ}),
                                                   query=lambda w: f"?project={w.project}"),
    ("GET", O): Route(frozenset({p.INTEGRATIONS_READ})),
    ("PUT", O): Route(frozenset({p.INTEGRATIONS_WRITE}), body=lambda w: {"description": "walked"}),
    ("DELETE", O): Route(frozenset({p.INTEGRATIONS_WRITE}), destroys=True),
    ("POST", f"{O}:verifyConfig"): Route(frozenset({p.INTEGRATIONS_VERIFY}), body=lambda w: {}),
    ("GET", f"{P}/secrets"): Route(frozenset({p.SECRETS_READ})),
    ("POST", f"{P}/secrets"): Route(frozenset({p.SECRETS_WRITE}), body=lambda w: {
        "name": uniq("s"), "values": {"k": "v"}}),
    ("POST", f"{P}/secrets:resolve"): Route(frozenset({p.SECRETS_ACCESS}), body=lambda w: {
        "template": "${secret:db.password}"}),
    ("GET", S): Route(frozenset({p.SECRETS_READ})),
    ("PUT", S): Route(frozenset({p.SECRETS_WRITE}), body=lambda w: {"values": {"password": "pw2"}}),
    ("DELETE", S): Route(frozenset({p.SECRETS_WRITE}), destroys=True),
    ("GET", f"{S}/versions"): Route(frozenset({p.SECRETS_READ})),
    ("GET", V): Route(frozenset({p.SECRETS_READ})),
    ("POST", f"{V}:enable"): Route(frozenset({p.SECRETS_WRITE})),
    ("POST", f"{V}:disable"): Route(frozenset({p.SECRETS_WRITE})),
    ("POST", f"{V}:destroy"): Route(frozenset({p.SECRETS_WRITE}), destroys=True),
    ("GET", f"{P}/audit-events"): Route(frozenset({p.AUDIT_READ})),
    ("GET", "/v1/audit-events"): Route(frozenset({p.AUDIT_READ})),
    ("GET", "/v1/audit-checkpoints"): Route(frozenset({p.AUDIT_READ})),
    ("GET", "/v1/audit-checkpoints/public-key"): Route(frozenset({p.AUDIT_READ})),
    ("GET", "/v1/oauth-apps"): Route(frozenset({p.INTEGRATIONS_READ})),
    ("POST", "/v1/oauth-apps"): Route(frozenset({p.INTEGRATIONS_WRITE}), body=lambda w: {
        "provider": "slack", "name": uniq("app"), "client_id": "cid2", "client_secret": "cs2"}),
    ("GET", "/v1/oauth-apps/{app_id}"): Route(frozenset({p.INTEGRATIONS_READ}), org_level=True),
    ("PUT", "/v1/oauth-apps/{app_id}"): Route(frozenset({p.INTEGRATIONS_WRITE}),
                                              body=lambda w: {"scopes": ["chat:write"]},
                                              org_level=True),
    ("DELETE", "/v1/oauth-apps/{app_id}"): Route(frozenset({p.INTEGRATIONS_WRITE}), destroys=True,
                                                 org_level=True),
    ("POST", f"{P}/integrations:connect"): Route(frozenset({p.INTEGRATIONS_WRITE}), body=lambda w: {
        "provider": "slack", "name": uniq("c"), "oauth_app": w.oauth_app}),
    ("GET", "/v1/oauth/callback"): Route(ANY),  # security: [] (the state is the capability)
    ("POST", f"{I}:refresh"): Route(frozenset({p.INTEGRATIONS_WRITE})),
}


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI template, e.g. /v1/projects/{project}
    params: list
    route: Route
    public: bool  # documented with `security: []`

    def request(self, world: World) -> tuple[str, dict | None]:
        url = world.url(self.path, self.params)
        if self.route.query:
            url += self.route.query(world)
        return url, (self.route.body(world) if self.route.body else None)


def operations(doc: dict, *, under: str = "/v1") -> list[Operation]:
    """Every operation of the OpenAPI document under `under`, each with its table entry."""
    found, missing = [], []
    for path, item in doc["paths"].items():
        if not path.startswith(under):
            continue
        shared = [prm["name"] for prm in item.get("parameters", []) if prm.get("in") == "path"]
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = shared + [prm["name"] for prm in op.get("parameters", [])
                               if prm.get("in") == "path" and prm["name"] not in shared]
            for name in _template_params(path):
                if name not in params:
                    params.append(name)
            route = ROUTES.get((method.upper(), path))
            if route is None:
                missing.append(f"{method.upper()} {path}")
                continue
            found.append(Operation(method.upper(), path, params, route, op.get("security") == []))
    assert not missing, ("Operations in /openapi.json with no entry in tests/owasp_routes.py "
                         f"ROUTES (add the permissions they need and a valid body): {missing}")
    documented = {(o.method, o.path) for o in found}
    stale = [key for key in ROUTES if key not in documented and key[1].startswith(under)]
    assert not stale, f"ROUTES entries no operation of /openapi.json has: {stale}"
    return found


def _template_params(path: str) -> list[str]:
    import re

    return re.findall(r"{([^}]+)}", path)
