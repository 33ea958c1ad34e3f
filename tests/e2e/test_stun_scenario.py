"""The demo scenario (issue 2 item 7): one STUN client behind each NAT preset, two servers.

What a researcher relies on: every client infers from the servers' answers alone whether its
NAT's mapping varies by destination, and that inference agrees with the configured NAT for
every preset; each scheduled event leaves its mark on the results; the seed matters only
where randomness is configured to (random port assignment); pcaps open in Wireshark.
"""

import json
import shutil
import struct
import subprocess

import pytest

from environment import REPO_ROOT, require
from procs import describe

SCENARIO = REPO_ROOT / "scenarios/stun-behind-nat.json"
SIM_TIMEOUT_S = 300
# Every site preset the demo puts a client behind, and whether its mapping varies by
# destination per RFC 4787 (the "custom" one is address-dependent mapping).
EXPECTED_VARIES = {
    "c-public": False,
    "c-full-cone": False,
    "c-restricted-cone": False,
    "c-port-restricted-cone": False,
    "c-symmetric": True,
    "c-symmetric-sequential": True,
    "c-address-dependent": True,
    "c-cgnat": False,
    "c-double-nat": False,
}


def run_scenario(warren, out, *extra):
    result = warren.run("sim", "run", SCENARIO, "--out", out, "--quiet", *extra, timeout=SIM_TIMEOUT_S)
    assert result.returncode == 0, describe(result)
    return json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def report(warren_bin, tmp_path_factory):
    from warren_cli import Warren
    out = tmp_path_factory.mktemp("stun-behind-nat")
    return run_scenario(Warren(warren_bin, None), out)


def clients(report):
    return {n["name"]: n for n in report["nodes"] if "stun" in n}


def test_every_preset_has_a_client(report):
    assert set(clients(report)) == set(EXPECTED_VARIES)
    presets = {n["preset"] for n in clients(report).values()}
    assert {"public", "full-cone", "restricted-cone", "port-restricted-cone", "symmetric",
            "symmetric-sequential", "cgnat", "double-nat"} <= presets


@pytest.mark.parametrize("name", sorted(EXPECTED_VARIES))
def test_inferred_mapping_behaviour_matches_the_nat(report, name):
    stun = clients(report)[name]["stun"]

    assert stun["mapping_varies_by_destination"] is EXPECTED_VARIES[name], stun
    assert stun["configured_mapping_varies"] is EXPECTED_VARIES[name], stun
    servers = {(m["server"], m["family"]) for m in stun["mapped"]}
    assert {"stun-a", "stun-b"} <= {s for s, _ in servers}, f"{name} did not hear from both servers: {stun}"


def test_public_client_sees_its_own_addresses(report):
    node = clients(report)["c-public"]
    seen = {m["family"]: m["endpoint"] for m in node["stun"]["mapped"]}
    assert seen["ipv4"].startswith(node["ipv4"] + ":")
    assert seen["ipv6"].startswith("[" + node["ipv6"] + "]:")


def test_natted_clients_see_their_nats_outside_address(report):
    for name, node in clients(report).items():
        if not node["nat"]:
            continue
        outer = node["nat"][-1]["node"]
        v4 = [m["endpoint"] for m in node["stun"]["mapped"] if m["family"] == "ipv4"]
        assert v4 and all(not e.startswith(node["ipv4"] + ":") for e in v4), (name, v4)
        assert len({e.rsplit(":", 1)[0] for e in v4}) == 1, f"{name} behind {outer}: {v4}"


def test_ipv6_behind_a_firewall_is_not_translated(report):
    node = clients(report)["c-port-restricted-cone"]
    assert node["ipv6_firewall"] is True
    v6 = [m["endpoint"] for m in node["stun"]["mapped"] if m["family"] == "ipv6"]
    assert v6 and all(e.startswith("[" + node["ipv6"] + "]:") for e in v6)
    assert node["stun"]["mapping_varies_by_family"] == {"ipv4": False, "ipv6": False}


def test_report_summary_counts_agreement(report):
    assert report["summary"]["stun_clients"] == len(EXPECTED_VARIES)
    assert report["summary"]["inference_matches_configuration"] == len(EXPECTED_VARIES)
    assert report["summary"]["inference_mismatches"] == []


def history(report, name):
    return clients(report)[name]["stun"]["history"]


def test_nat_flush_gives_the_random_port_cgnat_client_a_new_mapping(report):
    # The CGNAT reboots at 20 s, between the second and third rounds; its ports are random.
    rounds = history(report, "c-cgnat")
    assert len(rounds) >= 3
    assert rounds[0]["mapped"] == rounds[1]["mapped"], "mapping not kept while refreshed"
    assert rounds[2]["mapped"][0] != rounds[1]["mapped"][0], "NAT flush left the mapping in place"
    # The double-NAT client's CGNAT is not flushed: its mapping survives every round.
    double = history(report, "c-double-nat")
    assert all(r["mapped"] == double[0]["mapped"] for r in double)


def test_link_down_forces_retransmissions_then_recovers(report):
    # The symmetric client's uplink is down from 15.5 s to 17 s, during its second round.
    rounds = history(report, "c-symmetric")
    second = next(r for r in rounds if r["started_s"] >= 15.5)
    assert min(second["transmissions"]) > 1, second
    assert all(e is not None for e in second["mapped"]), "did not recover once the link came back"
    first = rounds[0]
    assert first["transmissions"] == [1, 1]


def test_server_stop_and_start_are_seen_by_the_clients(report):
    # stun-b is stopped from 30.5 s to 32 s. A round that starts in that window gets no answer
    # from stun-b until it is back: retransmissions, and the round ends after 32 s.
    overlapping = 0
    for name, node in clients(report).items():
        order = [s["server"] for s in node["stun"]["servers"]]
        for r in node["stun"]["history"]:
            if not 30.5 < r["started_s"] < 32:
                continue
            overlapping += 1
            b_tx = [t for server, t in zip(order, r["transmissions"]) if server == "stun-b"]
            a_tx = [t for server, t in zip(order, r["transmissions"]) if server == "stun-a"]
            assert min(b_tx) > 1, f"{name}: stun-b answered while stopped: {r}"
            assert max(a_tx) == 1, f"{name}: stun-a was affected: {r}"
            assert r["ended_s"] > 32 and None not in r["mapped"], f"{name}: {r}"
    assert overlapping >= len(EXPECTED_VARIES) // 2, "too few rounds overlapped the outage to tell"


def test_another_seed_changes_only_random_ports(warren, report, tmp_path):
    other = run_scenario(warren, tmp_path / "seed2", "--seed", "2")
    a, b = clients(report), clients(other)
    for name in EXPECTED_VARIES:
        assert b[name]["stun"]["mapping_varies_by_destination"] is EXPECTED_VARIES[name]
        ports_random = any(n["ports"] == "random" for n in a[name]["nat"])
        if not ports_random:
            assert a[name]["stun"]["mapped"] == b[name]["stun"]["mapped"], name
    assert a["c-symmetric"]["stun"]["mapped"] != b["c-symmetric"]["stun"]["mapped"]


def test_pcap_files_open_in_wireshark(warren, tmp_path):
    out = tmp_path / "pcap-run"
    run_scenario(warren, out, "--pcap")
    pcaps = sorted((out / "pcap").glob("*.pcap"))
    assert pcaps, "no pcap written"
    for p in pcaps:
        magic, = struct.unpack("<I", p.read_bytes()[:4])
        assert magic == 0xA1B2C3D4, f"{p.name} is not a pcap file"
    require(None if shutil.which("tshark") else "tshark is not installed (scripts/setup.sh installs it)")
    capture = next(p for p in pcaps if p.name.endswith("-core-stun-a.pcap"))
    decoded = subprocess.run(["tshark", "-r", str(capture), "-Y", "stun"], capture_output=True,
                             text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert decoded.returncode == 0, decoded.stderr
    assert "Binding Success Response" in decoded.stdout and "XOR-MAPPED-ADDRESS" in decoded.stdout


@pytest.mark.parametrize("mutation, message", [
    (lambda s: s["events"].append({"at_s": 1, "action": "flsh", "node": "c-cgnat-nat"}), "unknown action \"flsh\""),
    (lambda s: s["events"].append({"at_s": 1, "action": "stop", "node": "nosuch"}), "unknown node \"nosuch\""),
    (lambda s: s["events"].append({"at_s": 99, "action": "stop", "node": "stun-a"}), "after the end of the run"),
    (lambda s: s["events"].append({"at_s": 1, "action": "nat-flush", "node": "stun-a"}), "is not a NAT"),
    (lambda s: s["events"].append({"at_s": 1, "action": "link-down", "node": "stun-a", "peer": "stun-b"}),
     "no link between"),
    (lambda s: s["roles"].append({"role": "stun-cleint", "nodes": ["stun-a"]}), "unknown role \"stun-cleint\""),
    (lambda s: s["roles"][1].update({"rto": 5}), "unknown key \"rto\""),
    (lambda s: s.update({"duraton_s": 5}), "unknown key \"duraton_s\""),
])
def test_a_broken_scenario_is_refused_naming_the_culprit(warren, tmp_path, mutation, message):
    scenario = json.loads(SCENARIO.read_text())
    scenario["topology"] = str(REPO_ROOT / "topologies/stun-behind-nat.json")
    mutation(scenario)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(scenario))

    result = warren.run("sim", "run", path, "--out", tmp_path / "out", "--quiet")

    assert result.returncode == 2, describe(result)
    assert message in result.stderr and "broken.json" in result.stderr, describe(result)
