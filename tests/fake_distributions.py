"""A fixture that makes installed-looking distributions without pip, for the plugin-loading tests.

Each is a `.dist-info` folder and its modules on sys.path: importlib.metadata finds it exactly as it
finds a distribution pip installed, entry points included, and it is gone when the test ends.
"""
from __future__ import annotations

import sys
import textwrap

import pytest


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """make(name, entry_points, modules): a distribution importlib.metadata finds, without pip."""
    made_modules = []

    def make(name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
        root = tmp_path / name
        info = root / f"{name.replace('-', '_')}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(
            "[hub]\n" + "".join(f"{ep} = {target}\n" for ep, target in entry_points.items()))
        for module, source in modules.items():
            (root / f"{module}.py").write_text(textwrap.dedent(source))
            made_modules.append(module)
        monkeypatch.syspath_prepend(str(root))  # also invalidates the import caches

    yield make
    for module in made_modules:
        sys.modules.pop(module, None)
