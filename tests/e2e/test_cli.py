"""The `warren` command line as a script sees it: exit codes and what stderr says.

Contract (DESIGN.md section 6, nodes/cli/commands.h): 0 on success, 1 on a runtime failure,
2 on bad usage or bad input; errors go to stderr and say what to do.
"""

import re
import subprocess

import pytest

from environment import REPO_ROOT, free_port
from procs import describe
from warren_cli import STUN_TIMEOUT_S


def git_head():
    try:
        out = subprocess.run(["git", "-c", "safe.directory=*", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def test_version_names_the_commit(warren):
    result = warren.run("--version")

    assert result.returncode == 0, describe(result)
    assert re.fullmatch(r"warren \d+\.\d+\.\d+ \((?:[0-9a-f]{40}(?:-dirty)?|unknown)\)\n",
                        result.stdout), result.stdout
    head = git_head()
    if head is not None:
        assert head in result.stdout, (
            f"the binary says {result.stdout.strip()!r} but the checkout is at {head}; "
            "rebuild it (scripts/test.sh --quick)")


@pytest.mark.parametrize("args, mentions", [
    pytest.param([], r"subcommand", id="no-command"),
    pytest.param(["no-such-command"], r"no-such-command", id="unknown-command"),
    pytest.param(["topo", "no-such-command"], r"no-such-command", id="unknown-topo-command"),
    pytest.param(["stun"], r"server.*required|required.*server", id="stun-without-server"),
    pytest.param(["stun", "not-an-endpoint"], r"HOST:PORT", id="stun-not-an-endpoint"),
    pytest.param(["stun", "127.0.0.1:99999"], r"HOST:PORT", id="stun-port-out-of-range"),
    pytest.param(["stun", "127.0.0.1:3478", "--timeout", "0"], r"--timeout", id="stun-zero-timeout"),
    pytest.param(["stun", "127.0.0.1:3478", "--bind", "nowhere"], r"--bind", id="stun-bad-bind"),
    pytest.param(["stun-server"], r"--listen", id="stun-server-without-listen"),
    pytest.param(["stun-server", "--listen", "localhost"], r"--listen", id="stun-server-bad-listen"),
    pytest.param(["topo", "check"], r"FILE|required", id="topo-check-without-file"),
    pytest.param(["sim", "run", "does-not-exist.json", "--out", "x"], r"does-not-exist\.json",
                 id="sim-run-missing-scenario"),
])
def test_bad_usage_exits_2_and_says_why(warren, args, mentions):
    result = warren.run(*args)

    assert result.returncode == 2, describe(result)
    assert re.search(mentions, result.stderr, re.IGNORECASE | re.DOTALL), describe(result)
    assert "terminate called" not in result.stderr and "Segmentation" not in result.stderr


def test_stun_without_answer_exits_1_and_says_no_response(warren):
    # Nothing listens on this port (it was free a moment ago): the probe times out.
    port = free_port("127.0.0.1")

    result = warren.run("stun", f"127.0.0.1:{port}", "--timeout", 1, timeout=STUN_TIMEOUT_S + 30)

    assert result.returncode == 1, describe(result)
    assert re.search(r"no (STUN )?response", result.stderr, re.IGNORECASE), describe(result)
    assert result.stdout == ""


def test_stun_server_on_an_address_it_does_not_have_exits_1(warren):
    # 192.0.2.0/24 is documentation space: no interface here has it, so bind fails.
    result = warren.run("stun-server", "--listen", "192.0.2.55:3478")

    assert result.returncode == 1, describe(result)
    assert "192.0.2.55" in result.stderr, describe(result)
