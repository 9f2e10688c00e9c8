"""An attacker who can write the database but holds no root key cannot redirect an OAuth app's
client secret (nor the refresh token sent with it) by editing where the app sends them: the
secret is sealed bound to the provider, client id and token endpoint."""
from hub.storage.models import OAuthApp
from tests.oauth_helpers import PROJECT, connect, make_oauth_app


def test_an_edited_token_url_sends_nothing_to_the_editor(hub, fake_oauth, httpserver):
    server = fake_oauth("slack")
    app = make_oauth_app(hub, server, "slack")
    integration = connect(hub, server, "slack")
    thief = httpserver.url_for("/steal")
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        OAuthApp.update(token_url=thief).where(OAuthApp.id == app["id"]).execute()

    forced = hub.call("POST", f"{PROJECT}/integrations/{integration}:refresh")
    assert forced.status_code >= 400 and forced.mimetype == "application/problem+json", forced.json
    assert forced.json["title"] == "Stored data unreadable" and "'main'" in forced.json["detail"]
    assert httpserver.log == []  # nothing reached the editor's server
    assert server.refresh_grants == 0


def test_an_edited_client_id_makes_the_app_unopenable(hub, fake_oauth):
    server = fake_oauth("slack")
    app = make_oauth_app(hub, server, "slack")
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        OAuthApp.update(client_id="someone-else").where(OAuthApp.id == app["id"]).execute()
    started = hub.call("POST", f"{PROJECT}/integrations:connect",
                       json={"provider": "slack", "name": "team", "oauth_app": "main"})
    assert started.status_code >= 400 and started.mimetype == "application/problem+json", started.json
    assert started.json["title"] == "Stored data unreadable"
    assert "csecret" not in started.get_data(as_text=True)
