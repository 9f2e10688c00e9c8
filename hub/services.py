"""What the domain's operations need from a running hub, built in one place for the API and the CLI.

`Services` carries the keyring, the provider registry and a factory of the HTTP client that checks
get (HUB_VERIFY_TIMEOUT, HUB_VERIFY_ALLOW_HOSTS); `build_services` makes one from the hub's parts,
so neither the API nor the CLI assembles it by hand.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from hub.egress import AllowList, EgressClient
from hub.plugins.registry import ProviderRegistry
from hub.sdk import HttpClient
from hub.settings import allow_hosts_text


@dataclasses.dataclass(frozen=True)
class Services:
    """What integration operations need from the running hub."""

    keyring: Any
    providers: ProviderRegistry
    http_client: Callable[[], HttpClient]  # a fresh client for one check (timeouts, address policy)
    # Where checks run: the API's bounded pool (hub.verification.pool.CheckPool); None runs them
    # on the calling thread (the CLI, whose bulk run has its own pool).
    check_pool: Any = None
    # prepare_stored(services, principal, row, project) -> row: run before a check of stored
    # credentials (the API and CLI pass hub.oauth.refresh.before_check: a fresh OAuth token).
    prepare_stored: Callable[..., Any] | None = None


def make_http_client(timeout: float, allow_hosts_text: str | None) -> HttpClient:
    """The HTTP client a check gets: `timeout` seconds, and the loopback or private hosts or CIDRs
    of the allow list permitted (none by default).

    :raises ValueError: an allow-list entry is neither a host name nor an address or network.
    """
    return EgressClient(timeout=float(timeout), allow=AllowList.parse(allow_hosts_text or ""))


def http_client_from_settings(settings: Mapping[str, Any]) -> HttpClient:
    """`make_http_client` from the hub's settings (VERIFY_TIMEOUT, VERIFY_ALLOW_HOSTS)."""
    return make_http_client(settings.get("VERIFY_TIMEOUT", 10), allow_hosts_text(settings))


def build_services(keyring, providers: ProviderRegistry, settings: Mapping[str, Any],
                   check_pool: Any = None,
                   prepare_stored: Callable[..., Any] | None = None) -> Services:
    settings = dict(settings)  # a snapshot: checks may run on threads outside any app context
    return Services(keyring=keyring, providers=providers,
                    http_client=lambda: http_client_from_settings(settings), check_pool=check_pool,
                    prepare_stored=prepare_stored)
