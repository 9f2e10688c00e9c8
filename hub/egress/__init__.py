"""Egress: the address policy and the guarded HTTP client that provider checks call out with.

Owns every outbound request the hub makes to an address an API user chose. May import nothing
else of the hub (it is the bottom layer, beside `hub.errors`).
"""
from hub.egress.client import EgressClient, EgressError, EgressResponse
from hub.egress.policy import AllowList, is_public_address, normalize_host_name

__all__ = ["AllowList", "EgressClient", "EgressError", "EgressResponse", "is_public_address",
           "normalize_host_name"]
