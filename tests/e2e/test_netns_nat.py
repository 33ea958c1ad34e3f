"""STUN through a real Linux NAT: nftables masquerade in a router namespace (see netns.py).

The router's conntrack table is the ground truth for which public port the kernel chose for a
flow; every mapped endpoint a STUN client reports is checked against it. coturn on both ends
first proves the lab itself, so a failure further down points at warren, not at the lab.
"""

import pytest

import coturn
import netns
from environment import require
from netns import CLIENT_IP, ROUTER_PUBLIC_IP, SERVER_IP
from warren_cli import format_endpoint, parse_endpoint

STUN_PORT = 3478
SECOND_STUN_PORT = 3479
# A fixed client port, so that "did the NAT keep the port" has a definite answer.
CLIENT_PORT = 40000

PLAIN = "masquerade"
FULLY_RANDOM = "masquerade fully-random"
BOTH_MODES = [pytest.param(PLAIN, id="masquerade"), pytest.param(FULLY_RANDOM, id="fully-random")]


@pytest.fixture
def nat_lab(request, spawn):
    """A fresh client/router/server lab; `request.param` is the router's masquerade statement.

    Torn down on every path: processes first (so warren's servers get their SIGTERM and can be
    checked for a clean exit), then the namespaces with whatever is left in them.
    """
    require(netns.unavailable_reason())
    lab = netns.NatLab(getattr(request, "param", PLAIN))
    with lab:
        try:
            yield lab
        finally:
            spawn.stop_all()


def public_ports(lab, server_port, client_port=None):
    return {public for local, public in lab.udp_mappings(server_port)
            if client_port is None or local == client_port}


def test_lab_coturn_client_sees_router_address_through_coturn_server(nat_lab, spawn, tmp_path):
    require(coturn.available())
    coturn.start_turnserver(spawn, [SERVER_IP], STUN_PORT, tmp_path,
                            prefix=nat_lab.exec_prefix(nat_lab.server))

    ip, port = coturn.stunclient(SERVER_IP, STUN_PORT, prefix=nat_lab.exec_prefix(nat_lab.client))

    assert ip == ROUTER_PUBLIC_IP
    assert port in public_ports(nat_lab, STUN_PORT)


@pytest.mark.parametrize("nat_lab", BOTH_MODES, indirect=True)
def test_warren_stun_reports_router_public_address(nat_lab, warren):
    warren.stun_server(format_endpoint(SERVER_IP, STUN_PORT),
                       prefix=nat_lab.exec_prefix(nat_lab.server))

    answer = warren.stun(format_endpoint(SERVER_IP, STUN_PORT),
                         prefix=nat_lab.exec_prefix(nat_lab.client))

    mapped_ip, mapped_port = parse_endpoint(answer["mapped"])
    _, local_port = parse_endpoint(answer["local"])
    assert mapped_ip == ROUTER_PUBLIC_IP, f"expected the router's public address: {answer}"
    assert mapped_ip != CLIENT_IP
    assert mapped_port in public_ports(nat_lab, STUN_PORT, local_port), nat_lab.udp_mappings(STUN_PORT)
    if nat_lab.masquerade == PLAIN:
        assert mapped_port == local_port  # Linux keeps a free source port


def test_warren_stun_through_nat_to_coturn_server(nat_lab, warren, spawn, tmp_path):
    require(coturn.available())
    coturn.start_turnserver(spawn, [SERVER_IP], STUN_PORT, tmp_path,
                            prefix=nat_lab.exec_prefix(nat_lab.server))

    answer = warren.stun(format_endpoint(SERVER_IP, STUN_PORT),
                         prefix=nat_lab.exec_prefix(nat_lab.client))

    mapped_ip, mapped_port = parse_endpoint(answer["mapped"])
    _, local_port = parse_endpoint(answer["local"])
    assert mapped_ip == ROUTER_PUBLIC_IP
    assert mapped_port in public_ports(nat_lab, STUN_PORT, local_port)


@pytest.mark.parametrize("nat_lab", [pytest.param(FULLY_RANDOM, id="fully-random")], indirect=True)
def test_coturn_client_through_nat_to_warren_server(nat_lab, warren):
    require(coturn.available())
    warren.stun_server(format_endpoint(SERVER_IP, STUN_PORT),
                       prefix=nat_lab.exec_prefix(nat_lab.server))

    ip, port = coturn.stunclient(SERVER_IP, STUN_PORT, prefix=nat_lab.exec_prefix(nat_lab.client))

    # fully-random makes the public port differ from coturn's own, so a server that echoed the
    # wrong port (or the wrong byte order) could not match conntrack by accident.
    assert ip == ROUTER_PUBLIC_IP
    assert port in public_ports(nat_lab, STUN_PORT)


@pytest.mark.parametrize("nat_lab", BOTH_MODES, indirect=True)
def test_mapping_per_destination_from_one_client_port(nat_lab, warren):
    warren.stun_server(format_endpoint(SERVER_IP, STUN_PORT),
                       format_endpoint(SERVER_IP, SECOND_STUN_PORT),
                       prefix=nat_lab.exec_prefix(nat_lab.server))
    client = nat_lab.exec_prefix(nat_lab.client)
    bind = format_endpoint(CLIENT_IP, CLIENT_PORT)

    first = warren.stun(format_endpoint(SERVER_IP, STUN_PORT), "--bind", bind, prefix=client)
    second = warren.stun(format_endpoint(SERVER_IP, SECOND_STUN_PORT), "--bind", bind, prefix=client)

    assert first["local"] == second["local"] == bind
    first_ip, first_port = parse_endpoint(first["mapped"])
    second_ip, second_port = parse_endpoint(second["mapped"])
    assert first_ip == second_ip == ROUTER_PUBLIC_IP
    assert public_ports(nat_lab, STUN_PORT, CLIENT_PORT) == {first_port}
    assert public_ports(nat_lab, SECOND_STUN_PORT, CLIENT_PORT) == {second_port}
    if nat_lab.masquerade == PLAIN:
        # Endpoint-independent in practice: the same public port towards both servers.
        assert first_port == second_port == CLIENT_PORT
    else:
        # A fresh random port per flow; both landing on 40000 has odds of about 1 in 10^9.
        assert (first_port, second_port) != (CLIENT_PORT, CLIENT_PORT)
