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
    valid name, at least one auth method, marshmallow schemas, a ``verify`` that can be called as
    ``verify(auth_type, credentials, config, http)``) and reports a problem with the plugin's name
    instead of failing: one broken provider does not stop the others. Names are settled once every
    plugin has registered: a built-in provider's name is never given to another plugin, and a name
    two other plugins both declare is served by neither. Call ``register`` rather than returning
    anything.

    A provider whose users connect by consent declares an auth method with
    ``oauth=hub.sdk.OAuth(...)`` (its endpoints, scopes, client authentication, how to read the
    token answer, an optional post-exchange step); the hub then runs the OAuth flow for it and
    refreshes its tokens (docs/plugins.md, "OAuth").

    :param register: call ``register(provider)`` once per :class:`hub.sdk.Provider`.
    :return: nothing.
    """
