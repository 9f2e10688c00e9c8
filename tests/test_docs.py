"""docs/plugins.md cannot drift: every hook is documented with its exact signature, every testing
helper is named, and every ```python block runs.

A python block preceded by `<!-- docs-test: PATH -->` is part of the plugin the page builds
(`hub_acme/__init__.py`) or of its tests (`tests/test_acme.py`): the blocks of each file are joined
in page order, written to a temporary folder, and the tests are run with pytest in a subprocess
against the real hub, fixtures and all. Any other python block is executed on its own, in a fresh
namespace. Blocks that are not meant to run are marked ```text, ```toml or ```json.
"""
from __future__ import annotations

import dataclasses
import inspect
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import hub.testing
from hub import hookspecs
from hub.plugins import load_providers

PLUGINS_DOC = Path(__file__).parent.parent / "docs" / "plugins.md"
MARKER = re.compile(r"^<!-- docs-test: (\S+) -->\s*$")
KNOWN_LANGUAGES = {"", "python", "toml", "json", "text"}


@dataclasses.dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int  # of the block's first line of code, in docs/plugins.md
    target: str | None  # the file it belongs to, from its docs-test marker

    def __str__(self) -> str:
        return f"docs/plugins.md:{self.line}"


def _blocks() -> list[Block]:
    lines = PLUGINS_DOC.read_text().splitlines(keepends=True)
    blocks, target, index = [], None, 0
    while index < len(lines):
        line = lines[index]
        marker = MARKER.match(line)
        if marker:
            assert lines[index + 1].startswith("```python"), (
                f"docs/plugins.md:{index + 1}: a docs-test marker must sit right above a python block")
            target = marker.group(1)
        elif line.startswith("```"):
            end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            blocks.append(Block(line[3:].strip(), "".join(lines[index + 1:end]), index + 2, target))
            target, index = None, end
        index += 1
    return blocks


def _python_blocks(*, standalone: bool) -> list[Block]:
    return [block for block in _blocks()
            if block.language == "python" and (block.target is None) == standalone]


# Hooks -----------------------------------------------------------------------------------------

def _hookspecs():
    return [function for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(function, "hub_spec")]


def _documented_signatures() -> set[str]:
    return set(re.findall(r"^### (\w+\(.*\))\s*$", PLUGINS_DOC.read_text(), re.MULTILINE))


def test_the_hooks_are_found():
    assert "hub_register_providers" in [f.__name__ for f in _hookspecs()]


@pytest.mark.parametrize("hook", _hookspecs(), ids=lambda f: f.__name__)
def test_every_hook_is_documented_with_its_signature(hook):
    signature = f"{hook.__name__}{inspect.signature(hook)}"
    assert signature in _documented_signatures(), (
        f"docs/plugins.md needs a heading '### {signature}'")


@pytest.mark.parametrize("hook", _hookspecs(), ids=lambda f: f.__name__)
def test_every_hook_has_a_docstring_with_its_parameters(hook):
    doc = inspect.getdoc(hook)
    assert doc
    for parameter in inspect.signature(hook).parameters:
        assert f":param {parameter}:" in doc


def test_no_heading_documents_a_hook_that_does_not_exist():
    hook_names = {f.__name__ for f in _hookspecs()}
    documented = {signature.partition("(")[0] for signature in _documented_signatures()}
    assert documented <= hook_names


# The testing kit -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [name for name in hub.testing.__all__ if name.islower()])
def test_every_testing_helper_is_documented(name):
    assert f"`{name}" in PLUGINS_DOC.read_text(), f"docs/plugins.md does not mention `{name}`"


# The code blocks -------------------------------------------------------------------------------

def test_every_block_is_marked_with_a_known_language():
    unknown = [f"{block} ```{block.language}" for block in _blocks()
               if block.language not in KNOWN_LANGUAGES]
    assert unknown == [], "mark code blocks as one of " + ", ".join(sorted(KNOWN_LANGUAGES))


PLUGIN_FILES = {"hub_acme/__init__.py", "hub_acme/cookbook.py"}
TEST_FILES = {"tests/test_acme.py", "tests/test_cookbook.py"}  # the cookbook's recipes are tests


def test_the_page_builds_a_plugin_and_its_tests():
    targets = {block.target for block in _python_blocks(standalone=False)}
    assert targets == PLUGIN_FILES | TEST_FILES


@pytest.mark.parametrize("block", _python_blocks(standalone=True), ids=str)
def test_a_standalone_block_runs(block):
    exec(compile(block.code, str(block), "exec"), {"__name__": f"docs_block_{block.line}"})


def _write_the_plugin(root: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for block in _python_blocks(standalone=False):
        files[block.target] = files.get(block.target, "") + f"# {block}\n{block.code}\n"
    for path, source in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(source)
    return files


def test_the_plugins_tests_pass_against_the_hub(tmp_path):
    files = _write_the_plugin(tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    tests = sorted(TEST_FILES)
    expected = _count_tests(tmp_path, tests)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    environment.pop("PYTEST_ADDOPTS", None)

    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)

    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert f"{expected} passed" in output, output


def _count_tests(root: Path, tests: list[str]) -> int:
    """How many tests pytest will run: each test function, times its parametrize cases."""
    import ast

    count = 0
    for path in tests:
        for node in ast.parse((root / path).read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                cases = 1
                for decorator in node.decorator_list:
                    if (isinstance(decorator, ast.Call)
                            and ast.unparse(decorator.func) == "pytest.mark.parametrize"):
                        cases *= len(ast.literal_eval(decorator.args[1]))
                count += cases
    return count


def test_the_entry_point_block_loads_the_plugin(tmp_path, monkeypatch):
    [toml] = [block for block in _blocks() if block.language == "toml"]
    project = tomllib.loads(toml.code)["project"]
    _write_the_plugin(tmp_path)
    info = tmp_path / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    (info / "entry_points.txt").write_text("[hub]\n" + "".join(
        f"{name} = {target}\n" for name, target in project["entry-points"]["hub"].items()))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = load_providers(only={project["name"]})
    finally:
        sys.modules.pop("hub_acme", None)

    assert registry.failures == []
    assert registry.names() == ["acme"]
    assert registry.get("acme").package == "hub-acme"
