"""The hooks a hub plugin may implement. Their docstrings are the plugin author's documentation.

One name, "hub", serves these markers, the plugin manager and the entry-point group. A plugin
implements a hook by defining a function of the same name decorated with ``@hub.hookimpl``; it may
take fewer arguments than the spec names, so a hook can grow arguments without breaking plugins.
docs/plugins.md documents every hook here with its exact signature (tests/test_docs.py checks it).
"""
import pluggy

hookspec = pluggy.HookspecMarker("hub")
hookimpl = pluggy.HookimplMarker("hub")


@hookspec
def hub_register_providers(register):
    """Declare the providers this plugin brings.

    Called once per plugin when the hub loads its plugins. The hub checks every declaration (a
    valid, unique name, at least one auth method, marshmallow schemas, a callable ``verify``) and
    reports a problem with the plugin's name instead of failing: one broken provider does not stop
    the others. Call ``register`` rather than returning anything.

    :param register: call ``register(provider)`` once per :class:`hub.sdk.Provider`.
    :return: nothing.
    """
