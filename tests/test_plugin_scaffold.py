"""`hub plugin new NAME` writes a package whose own tests pass as generated: installed with
`pip install -e` into a fresh virtual environment and run there with pytest.

The fresh environment sees this one's installed packages (the hub and its dependencies) through a
path file rather than downloading them again, so the test needs no network; the generated
package itself is installed into it by pip, entry points and all.
"""
import subprocess
import sys
import sysconfig
from pathlib import Path

from hub_cli import run_hub


def test_the_scaffold_passes_its_own_tests_in_a_fresh_venv(tmp_path):
    made = run_hub(["plugin", "new", "acme", "--dir", str(tmp_path)], {"HUB_INSTANCE_PATH": str(tmp_path / "i")})
    package = tmp_path / "hub-acme"
    assert str(package) in made.stdout
    assert {p.name for p in package.iterdir()} >= {"pyproject.toml", "README.md", "hub_acme", "tests"}

    fresh = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True, timeout=120)
    purelib = Path(subprocess.run([str(fresh / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # A site directory, not a bare path: its own .pth files (the hub's editable install) count.
    outer = sysconfig.get_paths()["purelib"]
    (purelib / "outer.pth").write_text(f"import site; site.addsitedir({outer!r})\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(fresh / "bin" / "python"),
                              "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(package)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    tests = subprocess.run([str(fresh / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(package)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "6 passed" in tests.stdout
    # The package registers through the hub's entry-point group, as any third party's does.
    listed = subprocess.run([str(fresh / "bin" / "python"), "-c",
                             "from importlib.metadata import entry_points;"
                             "print([e.value for e in entry_points(group='hub') if e.name == 'acme'])"],
                            capture_output=True, text=True, check=True)
    assert "hub_acme" in listed.stdout


def test_a_name_that_cannot_be_a_module_or_a_folder_already_there_is_one_sentence(tmp_path):
    env = {"HUB_INSTANCE_PATH": str(tmp_path / "i")}
    bad = run_hub(["plugin", "new", "Acme-Corp", "--dir", str(tmp_path)], env, check=False)
    assert bad.returncode == 1 and "cannot name a provider" in bad.stderr and "Traceback" not in bad.stderr
    run_hub(["plugin", "new", "acme", "--dir", str(tmp_path)], env)
    again = run_hub(["plugin", "new", "acme", "--dir", str(tmp_path)], env, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
