"""`hub init` makes the instance folder private (0700) when the hub keeps files there, and makes
none when it keeps nothing there: a PostgreSQL (or SQLite elsewhere) hub whose root key comes from
HUB_ROOT_KEY, as in a container whose working directory cannot be written."""
import json

from hub_cli import run_hub


def test_hub_init_needs_no_instance_folder_when_nothing_is_kept_there(database_url, root_key_b64,
                                                                     tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # no folder can be made below a file, whoever runs the test
    instance = blocked / "instance"
    finished = run_hub(["init", "--json"], {"HUB_INSTANCE_PATH": str(instance),
                                           "HUB_DATABASE_URL": database_url,
                                           "HUB_ROOT_KEY": root_key_b64}, check=False)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["secret"].startswith("hub_sk_")
    assert not instance.exists()
