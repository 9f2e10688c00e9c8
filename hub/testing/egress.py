"""`egress_client`: the HTTP client a check gets from the hub, pointed at loopback for tests."""
from __future__ import annotations

import pytest

from hub.egress import AllowList, EgressClient

__all__ = ["LOOPBACK_ALLOW_LIST", "TEST_TIMEOUT", "egress_client"]

# Fake provider servers run on loopback, which the hub refuses unless allowed; a short deadline
# keeps a test of a hanging server short.
LOOPBACK_ALLOW_LIST = "127.0.0.1 ::1 localhost"
TEST_TIMEOUT = 1.0


@pytest.fixture
def egress_client() -> EgressClient:
    """An EgressClient with a 1 s deadline that may call loopback (and nothing else private)."""
    return EgressClient(timeout=TEST_TIMEOUT, allow=AllowList.parse(LOOPBACK_ALLOW_LIST))
