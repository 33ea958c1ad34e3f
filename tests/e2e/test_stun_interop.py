"""STUN interop on loopback with Debian's coturn, a STUN implementation nobody here wrote.

Both directions: coturn's client asks our server, our client asks coturn's server. The
commands coturn runs with are documented in coturn.py.
"""

import pytest

import coturn
from environment import free_port, ipv6_loopback_reason, require
from warren_cli import format_endpoint, parse_endpoint

FAMILIES = [pytest.param("127.0.0.1", id="ipv4"), pytest.param("::1", id="ipv6")]


def require_family(loopback):
    if ":" in loopback:
        reason = ipv6_loopback_reason()
        if reason:
            pytest.skip(reason)  # a machine without IPv6 is legitimate, in CI too


@pytest.mark.parametrize("loopback", FAMILIES)
def test_coturn_client_gets_its_address_from_warren_stun_server(warren, loopback):
    require(coturn.available())
    require_family(loopback)
    _, [(ip, port)] = warren.stun_server(format_endpoint(loopback, 0))
    assert ip == loopback and port != 0

    mapped_ip, mapped_port = coturn.stunclient(loopback, port)

    assert mapped_ip == loopback
    assert 0 < mapped_port < 65536 and mapped_port != port


@pytest.mark.parametrize("loopback", FAMILIES)
def test_warren_stun_gets_its_endpoint_from_coturn(warren, spawn, tmp_path, loopback):
    require(coturn.available())
    require_family(loopback)
    port = free_port(loopback, tcp_too=True)
    coturn.start_turnserver(spawn, [loopback], port, tmp_path)
    server = format_endpoint(loopback, port)
    local = format_endpoint(loopback, free_port(loopback))

    # On loopback nothing translates, so the mapped endpoint is exactly the socket we sent from.
    result = warren.run("stun", server, "--bind", local, "--timeout", 3)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"mapped {local} (server {server}, rtt "), result.stdout


@pytest.mark.parametrize("loopback", FAMILIES)
def test_warren_stun_json_from_coturn(warren, spawn, tmp_path, loopback):
    require(coturn.available())
    require_family(loopback)
    port = free_port(loopback, tcp_too=True)
    coturn.start_turnserver(spawn, [loopback], port, tmp_path)

    answer = warren.stun(format_endpoint(loopback, port))

    assert answer["server"] == format_endpoint(loopback, port)
    mapped_ip, mapped_port = parse_endpoint(answer["mapped"])
    local_ip, local_port = parse_endpoint(answer["local"])
    assert mapped_ip == loopback
    assert local_ip in (loopback, "0.0.0.0", "::")  # unbound: the wildcard address
    assert mapped_port == local_port != port
    assert isinstance(answer["rtt_ms"], (int, float)) and answer["rtt_ms"] >= 0
    assert isinstance(answer["transmissions"], int) and answer["transmissions"] >= 1
