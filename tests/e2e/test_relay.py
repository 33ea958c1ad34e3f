"""The relay end to end, driven only through the `warren` binary, on loopback.

`warren relay serve --config FILE` prints, once it handles SIGTERM (nodes/cli/relay_serve.h):
  listening on ADDR:PORT, public key KEY, stun on [ADDR:PORT, ...]
and logs (stderr, merged here) "admitting the N node keys the control server knows" each time
the control server's full key set arrives. `warren relay pubkey --config FILE` prints the
relay's key, which goes into the control server's relay_map before the relay first starts.

`warren debug relay` (nodes/cli/debug_relay.h) is the test client: it connects as the node
whose key `warren debug netmap` keeps in --state-dir and either
  --echo      prints {"type":"connected", "node_key": ..., ...} and echoes every packet, or
  --send-to K prints one {"type":"summary", "sent", "received", "lost", "rtt_ms": {...}} line
              and exits 0 only if every packet came back.
Every wait is bounded and every process is stopped at teardown (conftest.spawn); relays must
exit 0 on SIGTERM.
"""

import json
import re
import socket
import time
import types

import pytest

import coturn
from environment import free_port, ipv6_loopback_reason, require
from procs import describe
from test_control import ControlServer, netmap
from warren_cli import COMMAND_TIMEOUT_S, SERVER_READY_S, format_endpoint, parse_endpoint

READY = re.compile(r"^listening on (\S+), public key (\S+), stun on \[(.*?)\](, also listening on \[.*\])?$")
ADMITTING = r"admitting the \d+ node keys"
MESH_KEY = "0123456789abcdef" * 4  # 64 hex digits, shared by the relays of one region
# The promise: a node the control server deletes is cut off within this long.
DISCONNECT_S = 5
# A send-to over loopback finishes in milliseconds; this bounds a hang.
SEND_TIMEOUT_S = 10
# Meshed relays learn where a node is within a round trip of their mesh link; this bounds it.
MESH_CONVERGE_S = 30
# A refusal that is retried (not_ready) still ends within this, with exit 1.
REFUSAL_TIMEOUT_S = 10


class Relay:
    """One `warren relay serve` with its config and state directory under tmp_path."""

    def __init__(self, warren, spawn, tmp_path, name, control_url=None, mesh_peers=(),
                 mesh_key=None, stun=("127.0.0.1",), extra=None):
        self.warren = warren
        self.spawn = spawn
        self.name = name
        self.port = free_port("127.0.0.1", tcp_too=True)
        self.stun_port = free_port("127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = tmp_path / f"{name}.json"
        self.state_dir = tmp_path / f"{name}-state"
        self.stun_hosts = stun
        self.proc = None
        self.public_key = None
        self.stun_endpoints = []
        self.settings = {
            "listen": f"127.0.0.1:{self.port}",
            "stun_listen": [format_endpoint(h, self.stun_port if h == "127.0.0.1" else 0)
                            for h in stun],
            "state_dir": str(self.state_dir),
        }
        if control_url:
            self.settings["control_url"] = control_url
        if mesh_key:
            self.settings["mesh_key"] = mesh_key
            self.settings["mesh_peers"] = list(mesh_peers)
        self.settings.update(extra or {})
        self.write_config()

    def write_config(self):
        self.config.write_text(json.dumps(self.settings, indent=2))

    def pubkey(self):
        result = self.warren.run("relay", "pubkey", "--config", self.config)
        assert result.returncode == 0, describe(result)
        return result.stdout.strip()

    def relay_map_entry(self):
        return {"name": self.name, "host": "127.0.0.1", "port": self.port,
                "stun_port": self.stun_port, "key": self.pubkey()}

    def start(self, expect_clean_exit=True):
        self.proc = self.spawn([self.warren.binary, "relay", "serve", "--config", self.config],
                               name=f"warren relay serve ({self.name})",
                               expect_clean_exit=expect_clean_exit)
        m = self.proc.wait_for(READY.pattern, SERVER_READY_S)
        assert parse_endpoint(m.group(1)) == ("127.0.0.1", self.port), m.group(0)
        self.public_key = m.group(2)
        self.stun_endpoints = [parse_endpoint(e) for e in m.group(3).split(", ") if e]
        return self

    def wait_admitting(self):
        """Waits until the control server's key set has arrived (the relay logs it)."""
        self.proc.wait_for(ADMITTING, SERVER_READY_S)


class RelayControl(ControlServer):
    """A control server whose relay_map lists the given relays (their keys authenticate them)."""

    def __init__(self, warren, spawn, tmp_path, relays):
        self.relay_map = {"regions": [{"id": 1, "code": "lo", "name": "Loopback",
                                       "relays": [r.relay_map_entry() for r in relays]}]}
        super().__init__(warren, spawn, tmp_path)

    def write_config(self):
        super().write_config()
        config = json.loads(self.config.read_text())
        config["relay_map"] = self.relay_map
        self.config.write_text(json.dumps(config))


def debug_relay_args(relay, state_dir, *extra):
    return ["debug", "relay", "--relay", relay.url, "--state-dir", state_dir, *extra]


def debug_relay(warren, relay, state_dir, *extra, timeout=REFUSAL_TIMEOUT_S):
    """Runs `warren debug relay ... --timeout T` to completion; returns the CompletedProcess."""
    return warren.run(*debug_relay_args(relay, state_dir, *extra, "--timeout", timeout),
                      timeout=timeout + COMMAND_TIMEOUT_S)


def start_echo(warren, spawn, relay, state_dir, name, expect_clean_exit=True):
    """Starts `warren debug relay --echo`; returns (process, its node key) once it is connected."""
    proc = spawn([warren.binary] + debug_relay_args(relay, state_dir, "--echo"), name=f"echo {name}",
                 expect_clean_exit=expect_clean_exit)
    line = proc.wait_for(r'"type":"connected"', SERVER_READY_S)
    connected = json.loads(line.string)
    assert connected["relay_key"] == relay.public_key, connected
    return proc, connected["node_key"]


def send_to(warren, relay, state_dir, dst, count=20, timeout=SEND_TIMEOUT_S, extra=()):
    """Runs `warren debug relay --send-to`; returns (CompletedProcess, summary dict or None)."""
    result = debug_relay(warren, relay, state_dir, "--send-to", dst, "--count", count,
                         "--interval-ms", 5, *extra, timeout=timeout)
    summary = None
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            summary = json.loads(line)
    return result, summary


def assert_all_came_back(result, summary, count):
    assert result.returncode == 0, describe(result)
    assert summary is not None, describe(result)
    assert summary["type"] == "summary", summary
    assert (summary["sent"], summary["received"], summary["lost"]) == (count, count, 0), summary
    rtt = summary["rtt_ms"]
    assert 0 <= rtt["min"] <= rtt["avg"] <= rtt["max"], summary


def wait_reachable(warren, relay, state_dir, dst):
    """Sends single packets until one comes back (meshed relays need a moment to learn where
    the destination is); bounded by MESH_CONVERGE_S."""
    deadline = time.monotonic() + MESH_CONVERGE_S
    while True:
        result, summary = send_to(warren, relay, state_dir, dst, count=1, timeout=2)
        if result.returncode == 0:
            return
        assert time.monotonic() < deadline, (
            f"no packet came back through the mesh within {MESH_CONVERGE_S} s:\n{describe(result)}")
        time.sleep(0.2)


def register(warren, control, tmp_path, *names):
    """Registers nodes with `warren debug netmap --count 1`; returns their state dirs."""
    key = control.create_key("alice", "--reusable")
    dirs = {}
    for name in names:
        dirs[name] = tmp_path / name
        netmap(warren, control, dirs[name], name, key)
    return dirs


@pytest.fixture
def one_relay(warren, spawn, tmp_path):
    """A control server, two registered nodes (alpha, beta) and one relay admitting them."""
    relay = Relay(warren, spawn, tmp_path, "r1")
    control = RelayControl(warren, spawn, tmp_path, [relay]).start()
    dirs = register(warren, control, tmp_path, "alpha", "beta")
    relay.settings["control_url"] = control.url
    relay.write_config()
    relay.start()
    relay.wait_admitting()
    return control, relay, dirs


# --- without a control server -----------------------------------------------------------------

def test_a_relay_without_control_serves_stun_and_refuses_nodes(warren, spawn, tmp_path):
    relay = Relay(warren, spawn, tmp_path, "lone").start()
    assert relay.stun_endpoints == [("127.0.0.1", relay.stun_port)]

    answer = warren.stun(format_endpoint("127.0.0.1", relay.stun_port))
    assert parse_endpoint(answer["mapped"])[0] == "127.0.0.1"

    result = debug_relay(warren, relay, tmp_path / "node", "--echo")
    assert result.returncode == 1, describe(result)
    assert "refused" in result.stderr, describe(result)
    assert "control" in result.stderr, describe(result)


def raw_exchange(port, data, timeout=5.0):
    """Sends `data` on a fresh TCP connection to 127.0.0.1:port; returns what comes back until
    the relay closes the connection (bounded by `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(4096)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            received += chunk
        return received


def test_garbage_on_the_relay_port_is_refused_and_the_relay_keeps_serving(warren, spawn,
                                                                           tmp_path):
    relay = Relay(warren, spawn, tmp_path, "r").start()

    not_http = raw_exchange(relay.port, b"\x00\x01garbage that is not HTTP\r\n\r\n")
    wrong_upgrade = raw_exchange(relay.port, b"POST /relay HTTP/1.1\r\nHost: x\r\n"
                                             b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    bad_handshake = raw_exchange(relay.port, b"POST /relay HTTP/1.1\r\nHost: x\r\n"
                                             b"Upgrade: warren-relay/1\r\nConnection: Upgrade\r\n"
                                             b"X-Warren-Handshake: AAAA\r\n\r\n")

    assert not_http.startswith(b"HTTP/1.1 400"), not_http
    assert wrong_upgrade.startswith(b"HTTP/1.1 426"), wrong_upgrade
    # A bad Noise initiation is answered inside the upgraded stream: an error frame (type 3)
    # saying why, then the close (nodes/common/README.md).
    assert bad_handshake.startswith(b"HTTP/1.1 101"), bad_handshake
    assert b"\r\n\r\n\x03" in bad_handshake and b"handshake" in bad_handshake, bad_handshake
    # Still serving: the key endpoint answers, so does STUN.
    key = raw_exchange(relay.port, b"GET /key HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert key.startswith(b"HTTP/1.1 200") and relay.public_key.encode() in key, key
    answer = warren.stun(format_endpoint("127.0.0.1", relay.stun_port))
    assert parse_endpoint(answer["mapped"])[0] == "127.0.0.1"


def test_pubkey_matches_serve_and_the_key_is_private(warren, spawn, tmp_path):
    relay = Relay(warren, spawn, tmp_path, "r")
    key = relay.pubkey()
    assert relay.pubkey() == key, "generated once"
    assert oct(relay.state_dir.stat().st_mode & 0o777) == oct(0o700)
    assert oct((relay.state_dir / "relay.key").stat().st_mode & 0o777) == oct(0o600)

    relay.start()

    assert relay.public_key == key


def test_the_state_dir_defaults_to_the_environment_variable(warren, tmp_path):
    config = tmp_path / "relay.json"
    config.write_text(json.dumps({"listen": "127.0.0.1:0", "stun_listen": []}))
    state = tmp_path / "from-env"

    result = warren.run("relay", "pubkey", "--config", config,
                        prefix=("env", f"WARREN_RELAY_STATE_DIR={state}"))

    assert result.returncode == 0, describe(result)
    assert (state / "relay.key").exists(), describe(result)


@pytest.mark.parametrize("loopback", [pytest.param("127.0.0.1", id="ipv4"),
                                      pytest.param("::1", id="ipv6")])
def test_coturn_client_gets_its_address_from_the_relays_stun_port(warren, spawn, tmp_path,
                                                                 loopback):
    require(coturn.available())
    if ":" in loopback and ipv6_loopback_reason():
        pytest.skip(ipv6_loopback_reason())
    stun = ("127.0.0.1", "::1") if ":" in loopback else ("127.0.0.1",)
    relay = Relay(warren, spawn, tmp_path, "r", stun=stun).start()
    port = [p for ip, p in relay.stun_endpoints if ip == loopback][0]

    mapped_ip, mapped_port = coturn.stunclient(loopback, port)

    assert mapped_ip == loopback
    assert 0 < mapped_port < 65536 and mapped_port != port


# --- one relay ----------------------------------------------------------------------------------

def test_two_nodes_exchange_packets_through_one_relay(warren, spawn, one_relay):
    control, relay, dirs = one_relay
    _, beta_key = start_echo(warren, spawn, relay, dirs["beta"], "beta")
    alpha_view = netmap(warren, control, dirs["alpha"], "alpha")
    assert alpha_view.peer("beta")["node_key"] == beta_key, alpha_view.last

    result, summary = send_to(warren, relay, dirs["alpha"], beta_key, count=50)

    assert_all_came_back(result, summary, 50)
    assert summary["to"] == beta_key


def test_a_relay_listening_on_both_families_relays_between_them(warren, spawn, tmp_path):
    require(ipv6_loopback_reason())
    relay = Relay(warren, spawn, tmp_path, "r1")
    port6 = free_port("::1", tcp_too=True)
    relay.settings["listen"] = [f"127.0.0.1:{relay.port}", f"[::1]:{port6}"]
    relay.write_config()
    control = RelayControl(warren, spawn, tmp_path, [relay]).start()
    dirs = register(warren, control, tmp_path, "alpha", "beta")
    relay.settings["control_url"] = control.url
    relay.write_config()
    relay.start()
    assert f"also listening on [[::1]:{port6}]" in relay.proc.wait_for(READY.pattern, 0).string
    relay.wait_admitting()
    _, beta_key = start_echo(warren, spawn, relay, dirs["beta"], "beta")  # over IPv4

    over_ipv6 = types.SimpleNamespace(url=f"http://[::1]:{port6}")  # the same relay
    result, summary = send_to(warren, over_ipv6, dirs["alpha"], beta_key, count=10)

    assert_all_came_back(result, summary, 10)


def test_large_packets_come_back_whole(warren, spawn, one_relay):
    _, relay, dirs = one_relay
    _, beta_key = start_echo(warren, spawn, relay, dirs["beta"], "beta")

    result, summary = send_to(warren, relay, dirs["alpha"], beta_key, count=10,
                              extra=("--size", 60000))

    assert_all_came_back(result, summary, 10)


def test_an_unregistered_node_key_is_refused_with_a_clear_reason(warren, one_relay, tmp_path):
    _, relay, _ = one_relay

    result = debug_relay(warren, relay, tmp_path / "stranger", "--echo")

    assert result.returncode == 1, describe(result)
    assert "unknown_key" in result.stderr, describe(result)
    assert "warren debug netmap" in result.stderr, "says how to register:\n" + describe(result)


def test_a_deleted_node_is_disconnected_within_5_s(warren, spawn, one_relay):
    control, relay, dirs = one_relay
    echo, _ = start_echo(warren, spawn, relay, dirs["beta"], "beta", expect_clean_exit=False)

    control.ok("nodes", "delete", "beta")
    try:
        code = echo.proc.wait(timeout=DISCONNECT_S)
    except Exception:
        raise AssertionError(f"the echo client of the deleted node is still connected "
                             f"{DISCONNECT_S} s later:\n{echo.output()}\nrelay:\n{relay.proc.output()}")

    assert code == 1, echo.output()
    assert "removed_key" in echo.output() and "deleted" in echo.output(), echo.output()
    # Coming back is refused with the same reason.
    again = debug_relay(warren, relay, dirs["beta"], "--echo")
    assert again.returncode == 1 and "deleted" in again.stderr, describe(again)


def test_a_wrong_relay_key_is_a_clear_error(warren, one_relay, tmp_path):
    _, relay, dirs = one_relay
    wrong = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

    result = debug_relay(warren, relay, dirs["alpha"], "--echo", "--relay-key", wrong)

    assert result.returncode == 1, describe(result)
    assert relay.public_key in result.stderr and "--relay-key" in result.stderr, describe(result)


def test_a_packet_to_a_node_not_connected_is_lost_and_said_so(warren, one_relay):
    _, relay, dirs = one_relay
    beta_key = netmap(warren, one_relay[0], dirs["alpha"], "alpha").peer("beta")["node_key"]

    result, summary = send_to(warren, relay, dirs["alpha"], beta_key, count=3, timeout=3)

    assert result.returncode == 1, describe(result)
    assert summary["received"] == 0 and summary["lost"] == 3, summary
    assert "not connected" in result.stderr, describe(result)


# --- two meshed relays --------------------------------------------------------------------------

def test_two_meshed_relays_forward_between_their_nodes(warren, spawn, tmp_path):
    relays = [Relay(warren, spawn, tmp_path, name, mesh_key=MESH_KEY) for name in ("r1", "r2")]
    for relay in relays:
        relay.settings["mesh_peers"] = [r.url for r in relays]  # ourselves included, as documented
    control = RelayControl(warren, spawn, tmp_path, relays).start()
    dirs = register(warren, control, tmp_path, "alpha", "beta")
    for relay in relays:
        relay.settings["control_url"] = control.url
        relay.write_config()
        relay.start()
        relay.wait_admitting()
    r1, r2 = relays

    _, beta_key = start_echo(warren, spawn, r2, dirs["beta"], "beta")
    wait_reachable(warren, r1, dirs["alpha"], beta_key)
    result, summary = send_to(warren, r1, dirs["alpha"], beta_key, count=50)

    assert_all_came_back(result, summary, 50)


def test_a_relay_with_another_mesh_key_does_not_forward(warren, spawn, tmp_path):
    other_key = "f" * 64
    r1 = Relay(warren, spawn, tmp_path, "r1", mesh_key=MESH_KEY)
    r2 = Relay(warren, spawn, tmp_path, "r2", mesh_key=other_key)
    r1.settings["mesh_peers"] = [r2.url]
    r2.settings["mesh_peers"] = [r1.url]
    control = RelayControl(warren, spawn, tmp_path, [r1, r2]).start()
    dirs = register(warren, control, tmp_path, "alpha", "beta")
    for relay in (r1, r2):
        relay.settings["control_url"] = control.url
        relay.write_config()
        relay.start()
        relay.wait_admitting()
    _, beta_key = start_echo(warren, spawn, r2, dirs["beta"], "beta")

    result, summary = send_to(warren, r1, dirs["alpha"], beta_key, count=3, timeout=3)

    assert result.returncode == 1, describe(result)
    assert summary["received"] == 0, summary
    for relay in (r1, r2):
        assert "bad_mesh_key" in relay.proc.output(), "each relay logs the refused mesh link"


# --- the command's own behaviour ------------------------------------------------------------------

BAD_CONFIGS = {
    "not-json": '{"listen": "127.0.0.1:1", "stun_listen": [}',
    "typo": '{"listen": "127.0.0.1:1", "stun_listen": [], "contrl_url": "http://127.0.0.1:1"}',
    "missing-stun": '{"listen": "127.0.0.1:1"}',
    "https": '{"listen": "127.0.0.1:1", "stun_listen": [], "control_url": "https://c.example"}',
    "mesh-without-key": '{"listen": "127.0.0.1:1", "stun_listen": [], '
                        '"mesh_peers": ["http://127.0.0.1:2"]}',
    "bad-mesh-key": '{"listen": "127.0.0.1:1", "stun_listen": [], "mesh_key": "abc"}',
}


@pytest.mark.parametrize("command", ["serve", "pubkey"])
@pytest.mark.parametrize("kind", sorted(BAD_CONFIGS))
def test_a_bad_config_exits_2_naming_the_file(warren, tmp_path, command, kind):
    config = tmp_path / f"{kind}.json"
    config.write_text(BAD_CONFIGS[kind])

    result = warren.run("relay", command, "--config", config)

    assert result.returncode == 2, describe(result)
    assert str(config) in result.stderr, describe(result)
    assert len(result.stderr.strip().splitlines()) == 1, "one clear line:\n" + describe(result)


def test_a_missing_config_or_mesh_key_file_exits_2(warren, tmp_path):
    missing = tmp_path / "nowhere.json"
    result = warren.run("relay", "serve", "--config", missing)
    assert result.returncode == 2 and str(missing) in result.stderr, describe(result)

    config = tmp_path / "relay.json"
    config.write_text(json.dumps({"listen": "127.0.0.1:0", "stun_listen": [],
                                  "state_dir": str(tmp_path / "s"),
                                  "mesh_key_file": "mesh.key"}))
    result = warren.run("relay", "serve", "--config", config)
    assert result.returncode == 2 and str(tmp_path / "mesh.key") in result.stderr, describe(result)


def test_a_port_in_use_exits_1_naming_it(warren, spawn, tmp_path):
    first = Relay(warren, spawn, tmp_path, "first").start()
    second = Relay(warren, spawn, tmp_path, "second")
    second.settings["listen"] = f"127.0.0.1:{first.port}"
    second.write_config()

    result = warren.run("relay", "serve", "--config", second.config)

    assert result.returncode == 1, describe(result)
    assert str(first.port) in result.stderr, describe(result)


def test_sigterm_exits_0(warren, spawn, tmp_path):
    relay = Relay(warren, spawn, tmp_path, "r").start()

    code = relay.proc.stop()

    assert code == 0, relay.proc.output()
