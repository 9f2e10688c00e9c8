"""HUB_TRUSTED_PROXIES decides whose X-Forwarded-For is believed for the audit events' client_ip;
and the access log line every request leaves on "hub.access"."""
import logging

import pytest
from click.testing import CliRunner

from hub.app import create_app
from hub.cli import HubGroup
from hub.errors import SettingsError

SECRETS = "/v1/projects/payments/secrets"


def _client_ip_of_a_write(hub, app, forwarded=None, peer="127.0.0.1", name="db"):
    headers = {"Authorization": f"Bearer {hub.owner_secret}", "X-Request-ID": f"req-{name}"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    client = app.test_client()
    made = client.post(SECRETS, json={"name": name, "values": {"k": "v"}}, headers=headers,
                       environ_base={"REMOTE_ADDR": peer})
    assert made.status_code == 201, made.json
    events = hub.call("GET", "/v1/projects/payments/audit-events?limit=200").json["items"]
    return next(e["client_ip"] for e in events if e["request_id"] == f"req-{name}")


def test_unset_ignores_x_forwarded_for(hub):
    assert _client_ip_of_a_write(hub, hub.app, "203.0.113.7") == "127.0.0.1"


def test_a_count_believes_that_many_proxies(hub, make_app):
    app = make_app(TRUSTED_PROXIES=1)
    assert _client_ip_of_a_write(hub, app, "203.0.113.7", name="a") == "203.0.113.7"
    # A client's own X-Forwarded-For entry (the left one) is not believed: the proxy appended.
    assert _client_ip_of_a_write(hub, app, "198.51.100.9, 203.0.113.7", name="b") == "203.0.113.7"
    assert _client_ip_of_a_write(hub, app, None, name="c") == "127.0.0.1"
    two = make_app(TRUSTED_PROXIES="2")
    assert _client_ip_of_a_write(hub, two, "198.51.100.9, 203.0.113.7", name="d") == "198.51.100.9"
    assert _client_ip_of_a_write(hub, two, "203.0.113.7", name="e") == "127.0.0.1"  # fewer than 2


def test_networks_walk_from_the_right_skipping_trusted_ones(hub, make_app):
    app = make_app(TRUSTED_PROXIES="127.0.0.0/8, 10.0.0.0/8")
    assert _client_ip_of_a_write(hub, app, "203.0.113.7", name="a") == "203.0.113.7"
    assert _client_ip_of_a_write(hub, app, "198.51.100.9, 203.0.113.7, 10.1.2.3", name="b") == "203.0.113.7"
    assert _client_ip_of_a_write(hub, app, "10.0.0.1, 10.1.2.3", name="c") == "10.0.0.1"  # all trusted
    # A peer that is not a trusted proxy: its X-Forwarded-For is not believed.
    assert _client_ip_of_a_write(hub, app, "203.0.113.7", peer="192.0.2.1", name="d") == "192.0.2.1"
    # Garbage in the header: the last trusted hop, never the garbage.
    assert _client_ip_of_a_write(hub, app, "203.0.113.7, not-an-ip", name="e") == "127.0.0.1"
    single = make_app(TRUSTED_PROXIES="127.0.0.1")
    assert _client_ip_of_a_write(hub, single, "203.0.113.7", name="f") == "203.0.113.7"


@pytest.mark.parametrize("value", ["nonsense", "10.0.0.0/33", "1,", "-1", "true", "99"])
def test_a_malformed_value_stops_the_hub_naming_the_setting(tmp_path, value):
    with pytest.raises(SettingsError, match="HUB_TRUSTED_PROXIES"):
        create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TRUSTED_PROXIES": value,
                    "PLUGINS_ENTRYPOINTS": False})


def test_a_malformed_value_at_the_command_line_is_one_sentence(tmp_path):
    result = CliRunner().invoke(HubGroup(), ["serve"], env={
        "HUB_INSTANCE_PATH": str(tmp_path / "instance"), "HUB_TRUSTED_PROXIES": "10.0.0.300"})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "HUB_TRUSTED_PROXIES" in result.output and "'10.0.0.300'" in result.output
    assert not (tmp_path / "instance").exists()


def test_the_access_log_line(hub, caplog):
    caplog.set_level(logging.INFO, logger="hub.access")
    resp = hub.call("GET", "/v1/projects/payments/secrets?limit=5",
                    headers={"X-Request-ID": "req-log-1"})
    assert resp.status_code == 200
    key_id = hub.call("GET", "/v1/api-keys").json["items"][0]["api_key"]
    lines = [r.getMessage() for r in caplog.records if r.name == "hub.access"]
    line = next(m for m in lines if "request_id=req-log-1" in m)
    assert line.startswith("method=GET path=/v1/projects/payments/secrets status=200 duration_ms=")
    assert f"key_id={key_id}" in line
    assert "limit" not in line and "?" not in line
    assert hub.owner_secret not in "\n".join(lines) and "Bearer" not in "\n".join(lines)

    anonymous = hub.call("GET", "/v1/projects", key=None, headers={"X-Request-ID": "req-log-2"})
    assert anonymous.status_code == 401
    line = next(r.getMessage() for r in caplog.records if "request_id=req-log-2" in r.getMessage())
    assert "status=401" in line and line.endswith("key_id=-")

    wrong = hub.call("GET", "/v1/projects", key="hub_sk_not-a-real-secret", headers={"X-Request-ID": "req-log-3"})
    assert wrong.status_code == 401
    line = next(r.getMessage() for r in caplog.records if "request_id=req-log-3" in r.getMessage())
    assert "not-a-real-secret" not in line and line.endswith("key_id=-")
    forged = hub.call("GET", "/v1/x%0Amethod=POST", key=None, headers={"X-Request-ID": "req-log-4"})
    line = next(r.getMessage() for r in caplog.records if "request_id=req-log-4" in r.getMessage())
    assert "\n" not in line and "path=/v1/x\\x0amethod=POST" in line
    assert forged.status_code == 404
