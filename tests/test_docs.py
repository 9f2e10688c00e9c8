"""docs/plugins.md documents every hook with its exact signature: documentation that cannot drift."""
import inspect
import re
from pathlib import Path

import pytest

from hub import hookspecs

PLUGINS_DOC = Path(__file__).parent.parent / "docs" / "plugins.md"


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
