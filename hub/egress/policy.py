"""Which addresses a check may call: public ones, plus what HUB_VERIFY_ALLOW_HOSTS allows."""
from __future__ import annotations

import dataclasses
import ipaddress
import re

ALLOW_HOSTS_SETTING = "HUB_VERIFY_ALLOW_HOSTS"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance-metadata endpoints hand out the host's own cloud credentials. Refused whatever
# the allow list says: no provider API lives there. (Most are link-local or private anyway;
# 192.0.0.192, Oracle's, counts as global for `ipaddress`.)
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
    "169.254.170.2",  # AWS ECS task credentials
    "fd00:ec2::254",  # AWS, IPv6
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud
))
_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
_HOST_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")


@dataclasses.dataclass(frozen=True)
class AllowList:
    """Hosts that checks may call although they are not public (`HUB_VERIFY_ALLOW_HOSTS`).

    Entries are host names (matched exactly, case-insensitively), IP addresses or CIDR networks.
    An allowed name may resolve to any address; an allowed network admits the addresses in it,
    whichever name led there. Plain http is accepted for allowed hosts only.
    """

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> "AllowList":
        """Parse a comma- or space-separated list; raises ValueError naming a bad entry."""
        names, networks = set(), []
        for entry in re.split(r"[\s,]+", (text or "").strip()):
            if not entry:
                continue
            literal = entry[1:-1] if entry.startswith("[") and entry.endswith("]") else entry
            try:
                networks.append(ipaddress.ip_network(literal, strict=False))
                continue
            except ValueError:
                pass
            name = normalize_host_name(entry)
            if name is None:
                raise ValueError(f"{ALLOW_HOSTS_SETTING}: {entry!r} is neither a host name nor an "
                                 "IP address or CIDR network")
            names.add(name)
        return cls(frozenset(names), tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.names or self.networks)

    def allows_name(self, host: str) -> bool:
        return host in self.names

    def allows_address(self, address: IPAddress) -> bool:
        candidates = {address, _embedded_ipv4(address) or address}
        return any(ip.version == net.version and ip in net
                   for ip in candidates for net in self.networks)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv4-mapped, 6to4 or NAT64 IPv6 address, if any."""
    if address.version == 4:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True for an address on the public internet; False for loopback, private, link-local,
    CGNAT, multicast, reserved, unspecified and metadata addresses.

    Addresses that carry an IPv4 address (::ffff:a.b.c.d, 6to4, NAT64) are judged by it.
    """
    address = _embedded_ipv4(address) or address
    if address in METADATA_ADDRESSES:
        return False
    # `is_global` alone lets multicast through (224.0.0.1 and ff02::1 count as global).
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_loopback
        or address.is_link_local or address.is_unspecified or address.is_private
        # Deprecated IPv6 site-local fec0::/10 still routes inside some networks.
        or getattr(address, "is_site_local", False))


def normalize_host_name(host: str) -> str | None:
    """The ASCII, lower-case form of a host name or IP literal, or None if it is not one."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return host if _HOST_NAME.fullmatch(host) else None
