"""What an attacker or an odd provider answer could make of OAuth connections, on SQLite and
PostgreSQL, against the fake providers on loopback: an app's client secret is used only for its
own provider, a provider-given cloud id cannot steer where the token goes, a transient Slack error
does not end a connection, and return_to keeps its fragment apart from the integration id."""
import datetime

import pytest

from hub.storage.models import Integration
from tests.oauth_helpers import (
    PROJECT,
    callback,
    events,
    make_oauth_app,
    start,
)


def _past() -> str:
    return (datetime.datetime.now(datetime.timezone.utc)
            - datetime.timedelta(minutes=5)).isoformat()


def test_an_apps_secret_is_never_used_for_another_providers_integration(hub, fake_oauth):
    # A key that may write integrations pastes OAuth credentials naming the org's GitHub app:
    # refreshing them would send GitHub's client secret in Atlassian's manner to wherever the
    # Jira provider's token endpoint is.
    github = fake_oauth("github")
    app = make_oauth_app(hub, github, "github")
    pasted = hub.call("POST", f"{PROJECT}/integrations", json={
        "name": "borrowed", "provider": "jira", "auth_type": "oauth", "credentials": {
            "access_token": "at-1", "refresh_token": "rt-1", "expires_at": _past(),
            "oauth_app_id": app["id"], "api_url": github.api_base_url}})
    assert pasted.status_code == 201, pasted.json
    door = hub.call("GET", f"{PROJECT}/integrations/{pasted.json['id']}/credentials")
    assert door.status_code == 409 and door.json["title"] == "Credentials expired", door.json
    assert github.grants == []  # nothing, and no client secret, reached the app's token endpoint
    assert events(hub, "integration.refresh")[0]["details"]["reason"] == "app_mismatch"


@pytest.mark.parametrize("cloud_id", ["../../oauth/token/accessible-resources?",
                                      "x/../../../steal#", "x" * 101, ""])
def test_a_cloud_id_that_is_no_plain_id_connects_nothing(hub, fake_oauth, cloud_id):
    server = fake_oauth("atlassian")
    server.dialect.cloud_id = cloud_id  # what accessible-resources names
    make_oauth_app(hub, server, "jira")
    started = start(hub, "jira")
    assert started.status_code == 201, started.json
    done = callback(hub, server.consent(started.json["authorize_url"]))
    assert done.status_code == 400, done.get_data(as_text=True)
    assert "site" in done.get_data(as_text=True)
    with hub.app.app_context(), hub.app.extensions["hub.db"].connection_context():
        assert Integration.select().count() == 0
