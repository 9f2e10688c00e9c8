"""The hooks a hub plugin may implement. Their docstrings are the plugin author's documentation."""
import pluggy

hookspec = pluggy.HookspecMarker("hub")
hookimpl = pluggy.HookimplMarker("hub")


@hookspec
def hub_register_providers(register):
    """Declare the providers this plugin brings.

    :param register: call ``register(provider)`` once per :class:`hub.providers.Provider`.
    """
