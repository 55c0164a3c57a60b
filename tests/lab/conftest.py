"""Fixtures for the lab's proof tests: root is required; in CI (CI=true) a missing prerequisite fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from mipsniff.lab import topology


def need_lab_host() -> None:
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    missing += [t for t in ("ip", "radvd", "ip6tables", "ping", "tcpdump", "dumpcap") if shutil.which(t) is None]
    if not os.path.exists("/dev/net/tun"):
        missing.append("/dev/net/tun")
    if missing:
        reason = "the lab needs " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must run the lab tests)")
        pytest.skip(reason)


@pytest.fixture
def lab_host() -> Iterator[None]:
    """The host can run the lab (root, tools); fails in CI, skips elsewhere. Holds the lab lock."""
    need_lab_host()
    with topology.exclusive():  # one lab per host: concurrent test runs and `lab` commands take turns
        yield


@pytest.fixture
def lab(lab_host: None) -> Iterator[topology.LabState]:
    """A fresh lab for each test, always torn down, even when the test fails.

    Fresh, because the agent's MN uses InitialBindackTimeoutReReg (1 s) for a registration after a
    deregistration, which races with the HA's 1 s DAD on the home address (RFC 6275 §10.3.1, §11.8 says
    the first-registration timeout applies whenever no binding exists); a fresh MN uses 1.5 s."""
    topology.down()
    try:
        yield topology.up()
    finally:
        topology.down()
