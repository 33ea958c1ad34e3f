"""The laboratory as a user drives it: the shipped topologies and scenarios through the binary.

Contract (DESIGN.md section 6): `warren sim run` writes report.json (simulated results only,
byte-identical for the same seed and commit), report.md and run.json (host figures).
"""

import json

import pytest

from environment import REPO_ROOT
from procs import describe

TOPOLOGIES = sorted((REPO_ROOT / "topologies").glob("*.json"))
SCENARIOS = sorted((REPO_ROOT / "scenarios").glob("*.json"))
# Scenarios whose own module already runs them twice, compares the reports and applies
# check_report (each run takes minutes of CPU): running them here as well would double that.
OWN_MODULE = {"control-scale": "test_control_scenario.py"}
REPRODUCED_HERE = [p for p in SCENARIOS if p.stem not in OWN_MODULE]
BEHAVIOURS = {"endpoint-independent", "address-dependent", "address-and-port-dependent"}
PORT_ASSIGNMENTS = {"preserve", "sequential", "random"}
# The shipped scenarios simulate tens of seconds in well under one wall second; sanitizer
# builds on a loaded 2-core runner are many times slower.
SIM_TIMEOUT_S = 300


def ids(paths):
    return [p.stem for p in paths]


def test_the_demo_scenario_exists():
    assert (REPO_ROOT / "scenarios/stun-behind-nat.json") in SCENARIOS


@pytest.mark.parametrize("topology", TOPOLOGIES, ids=ids(TOPOLOGIES))
def test_topo_check_accepts_shipped_topology(warren, topology):
    result = warren.run("topo", "check", topology)

    assert result.returncode == 0, describe(result)
    assert result.stdout.startswith("ok: "), result.stdout


@pytest.mark.parametrize("topology", TOPOLOGIES, ids=ids(TOPOLOGIES))
def test_topo_dot_prints_a_graph(warren, topology):
    result = warren.run("topo", "dot", topology)

    assert result.returncode == 0, describe(result)
    text = result.stdout.strip()
    assert text.startswith(("graph ", "digraph ")) and text.endswith("}"), text[:400]


def test_topo_check_rejects_a_broken_file_naming_it(warren, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "broken", "nodes": [')

    result = warren.run("topo", "check", broken)

    assert result.returncode == 2, describe(result)
    assert "broken.json" in result.stderr, describe(result)


def version_commit(warren):
    out = warren.run("--version").stdout.strip()
    return out[out.index("(") + 1:out.rindex(")")]


def check_report(report, commit):
    for key in ("scenario", "seed", "commit", "nodes"):
        assert key in report, f"report.json lacks {key!r}"
    assert report["commit"] == commit
    assert report["nodes"], "report.json lists no nodes"
    for node in report["nodes"]:
        where = f"node {node.get('name')!r}"
        assert isinstance(node["name"], str) and node["name"], where
        assert node["families"] and set(node["families"]) <= {"ipv4", "ipv6"}, where
        assert isinstance(node["ipv6_firewall"], bool), where
        for nat in node["nat"]:
            assert nat["mapping"] in BEHAVIOURS, f"{where}: {nat}"
            assert nat["filtering"] in BEHAVIOURS, f"{where}: {nat}"
            assert nat["ports"] in PORT_ASSIGNMENTS, f"{where}: {nat}"


def test_every_scenario_is_reproduced_somewhere():
    for scenario in SCENARIOS:
        if scenario.stem in OWN_MODULE:
            assert (REPO_ROOT / "tests/e2e" / OWN_MODULE[scenario.stem]).is_file(), scenario.stem


@pytest.mark.parametrize("scenario", REPRODUCED_HERE, ids=ids(REPRODUCED_HERE))
def test_sim_run_writes_reproducible_reports(warren, scenario, tmp_path):
    runs = []
    for name in ("first", "second"):
        out = tmp_path / name
        result = warren.run("sim", "run", scenario, "--out", out, "--quiet", timeout=SIM_TIMEOUT_S)
        assert result.returncode == 0, describe(result)
        runs.append(out)

    first, second = ((out / "report.json").read_bytes() for out in runs)
    assert first == second, "same scenario, seed and commit gave different report.json"
    report = json.loads(first)
    check_report(report, version_commit(warren))
    assert (runs[0] / "report.md").read_text().strip(), "report.md is empty"
    host = json.loads((runs[0] / "run.json").read_text())
    assert host["wall_s"] >= 0


def test_sim_run_seed_option_overrides_the_scenario(warren, tmp_path):
    scenario = REPO_ROOT / "scenarios/stun-behind-nat.json"
    out = tmp_path / "seeded"

    result = warren.run("sim", "run", scenario, "--out", out, "--seed", 7, "--quiet",
                        timeout=SIM_TIMEOUT_S)

    assert result.returncode == 0, describe(result)
    assert json.loads((out / "report.json").read_text())["seed"] == 7
