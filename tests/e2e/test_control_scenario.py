"""The control server at scale inside ns-3 (issue 3 item 10): scenarios/control-scale.json.

1,000 control clients behind home, symmetric, carrier-grade and double NATs and on public
addresses register through the same control server and client code as the real binary. What a
researcher relies on: every client registers, every overlay address is unique and inside the
overlay prefixes, every client ends up seeing every other one, the map stream is one full map
per client followed by deltas, and the same seed gives the same report byte for byte.

Marked slow: the run takes about a minute of CPU on the release build (several on a loaded
2-core runner, far more under sanitizers); scripts/test.sh runs it in the release e2e stage
and skips it with --quick and in the sanitizer stage.
"""

import ipaddress
import json

import pytest

from environment import REPO_ROOT
from procs import describe
from test_scenarios import check_report, version_commit

pytestmark = pytest.mark.slow

SCENARIO = REPO_ROOT / "scenarios/control-scale.json"
CLIENTS = 1000
SIM_TIMEOUT_S = 1200
OVERLAY_V4 = ipaddress.ip_network("100.64.0.0/10")
OVERLAY_V6 = ipaddress.ip_network("fd7a:115c:a1e0::/48")


@pytest.fixture(scope="module")
def runs(warren_bin, tmp_path_factory):
    """Two runs of the scenario: (report bytes, run.json) each."""
    from warren_cli import Warren
    warren = Warren(warren_bin, None)
    out = []
    for name in ("first", "second"):
        folder = tmp_path_factory.mktemp(f"control-scale-{name}")
        result = warren.run("sim", "run", SCENARIO, "--out", folder, "--quiet", timeout=SIM_TIMEOUT_S)
        assert result.returncode == 0, describe(result)
        out.append(((folder / "report.json").read_bytes(), json.loads((folder / "run.json").read_text())))
    return out


@pytest.fixture(scope="module")
def report(runs):
    return json.loads(runs[0][0])


def clients(report):
    return [n for n in report["nodes"] if "control" in n]


def test_same_seed_gives_the_same_report(runs, warren):
    assert runs[0][0] == runs[1][0], "same scenario, seed and commit gave different report.json"
    check_report(json.loads(runs[0][0]), version_commit(warren))


def test_every_client_registers(report):
    summary = report["summary"]
    assert summary["control_clients"] == CLIENTS
    assert summary["nodes_registered"] == CLIENTS, summary
    assert summary["nodes_on_control_servers"] == CLIENTS, summary
    assert summary["registrations_refused"] == 0, summary
    assert summary["control_clients_with_errors"] == 0, summary
    assert summary["all_registered_s"] is not None and summary["all_registered_s"] < report["duration_s"]
    assert len(clients(report)) == CLIENTS


def test_overlay_addresses_are_unique_and_inside_the_overlay_prefixes(report):
    v4 = [ipaddress.ip_address(n["overlay_ipv4"]) for n in clients(report)]
    v6 = [ipaddress.ip_address(n["overlay_ipv6"]) for n in clients(report)]

    assert len(set(v4)) == CLIENTS, "two nodes share an overlay IPv4 address"
    assert len(set(v6)) == CLIENTS, "two nodes share an overlay IPv6 address"
    assert all(a in OVERLAY_V4 for a in v4), [str(a) for a in v4 if a not in OVERLAY_V4][:5]
    assert all(a in OVERLAY_V6 for a in v6), [str(a) for a in v6 if a not in OVERLAY_V6][:5]
    assert report["summary"]["overlay_addresses_unique"] is True


def test_every_client_sees_every_other_one(report):
    assert report["summary"]["peers_seen_min"] == CLIENTS - 1
    assert report["summary"]["peers_seen_max"] == CLIENTS - 1


def test_one_full_map_per_client_then_only_deltas(report):
    summary = report["summary"]
    assert summary["full_maps_sent"] == CLIENTS
    assert all(n["control"]["full_maps"] == 1 for n in clients(report))
    # Clients that joined before the last ones heard about them as deltas, batched: far fewer
    # messages than one per (client, later registration) pair.
    assert summary["map_deltas_received"] == summary["map_deltas_sent"] > 0
    assert summary["map_deltas_sent"] < CLIENTS * (CLIENTS - 1) // 2


def test_clients_sit_behind_every_kind_of_nat(report):
    presets = {n["preset"] for n in clients(report)}
    assert {"port-restricted-cone", "symmetric", "cgnat", "double-nat", "public"} <= presets
    server = [n for n in report["nodes"] if "control_server" in n]
    assert [n["name"] for n in server] == ["ctl"]
    assert server[0]["control_server"]["nodes"] == CLIENTS


def test_host_figures_are_recorded(runs):
    host = runs[0][1]
    assert host["wall_s"] > 0 and host["peak_rss_mib"] > 0
    print(f"control-scale: {host['wall_s']:.1f} s wall, peak {host['peak_rss_mib']:.0f} MiB, "
          f"{host['events']} events")
