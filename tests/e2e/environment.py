"""What the machine running the end-to-end tests offers: prerequisites, free ports, IPv6.

With CI=true (or WARREN_E2E_STRICT=1) a missing prerequisite (coturn, root, network
namespaces) fails the test instead of skipping it: CI runs as root after scripts/setup.sh, so
a skip there would hide a broken machine behind a green run.
"""

import os
import socket
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Attempts at finding a port free for both UDP and TCP before giving up.
FREE_PORT_ATTEMPTS = 20


def strict():
    return (os.environ.get("CI", "").lower() in ("1", "true", "yes")
            or os.environ.get("WARREN_E2E_STRICT") == "1")


def require(reason_or_none):
    """Skips (or, in CI, fails) the calling test when reason_or_none names a missing prerequisite."""
    if reason_or_none is None:
        return
    if strict():
        pytest.fail(f"{reason_or_none} (CI=true: a missing prerequisite fails instead of skipping)")
    pytest.skip(reason_or_none)


def free_port(host, tcp_too=False):
    """A port on `host` that is free for UDP (and TCP with tcp_too) right now.

    The kernel picks it; another process could take it before the caller binds, which on a
    test machine's loopback is rare enough to accept.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(FREE_PORT_ATTEMPTS):
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            if not tcp_too:
                return port
            with socket.socket(family, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError(f"no port free for UDP and TCP on {host} after {FREE_PORT_ATTEMPTS} tries")


def ipv6_loopback_reason():
    """None when ::1 is usable, else why not (containers often run with IPv6 disabled)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError as e:
        return f"IPv6 loopback ::1 is not available here: {e}"
    return None
