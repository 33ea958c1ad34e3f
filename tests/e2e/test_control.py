"""The control server end to end, driven only through the `warren` binary.

A `warren control serve` runs on 127.0.0.1 with a temporary state directory; the admin commands
reach it through its admin socket (`warren control --state-dir DIR ...`), and `warren debug
netmap` clients register with pre-auth keys and print what the server streams to them, one
JSON line per event (nodes/cli/cmd_debug.cc):
  {"type": "registered", "server_key": ..., "node": {"id", "name", "user", "addresses", ...}}
  {"type": "map", "full": bool, "seq": N, "self": {...}, "peers": [{"id", "name",
   "addresses", "routes", "endpoints", "online", ...}], "packet_filter": [...], ...}
Every wait is bounded and every process is stopped at teardown (conftest.spawn).
"""

import ipaddress
import json
import os
import re
import signal
import time

import pytest

from environment import free_port
from procs import describe
from warren_cli import COMMAND_TIMEOUT_S, SERVER_READY_S, parse_endpoint

AUTH_KEY = re.compile(r"\bwk-[0-9a-f]{12}-[A-Za-z0-9_-]{43}\b")
OVERLAY_V4 = ipaddress.ip_network("100.64.0.0/10")
OVERLAY_V6 = ipaddress.ip_network("fd7a:115c:a1e0::/48")
# A netmap client on loopback registers and gets its map in milliseconds; this bounds a hang.
NETMAP_TIMEOUT_S = 20
# The server's batching window in these tests: deltas arrive within it.
BATCH_WINDOW_MS = 50


LISTENING = re.compile(r"^listening on (\S+), public key (\S+), admin socket (.+)$")


class ControlServer:
    """One `warren control serve` with its config and state directory under tmp_path.

    The first start listens on port 0; the port it got is written back into the config, so a
    restart serves the same URL (as a real deployment would).
    """

    def __init__(self, warren, spawn, tmp_path):
        self.warren = warren
        self.spawn = spawn
        self.state_dir = tmp_path / "control-state"
        self.config = tmp_path / "control.json"
        self.port = 0
        self.url = None
        self.public_key = None
        self.proc = None
        self.write_config()

    def write_config(self):
        self.config.write_text(json.dumps({
            "listen": f"127.0.0.1:{self.port}",
            "state_dir": str(self.state_dir),
            "batch_window_ms": BATCH_WINDOW_MS,
        }))

    def start(self, expect_clean_exit=True):
        self.proc = self.spawn([self.warren.binary, "control", "serve", "--config", self.config],
                               name="warren control serve", expect_clean_exit=expect_clean_exit)
        m = self.proc.wait_for(LISTENING.pattern, SERVER_READY_S)
        host, port = parse_endpoint(m.group(1))
        assert host == "127.0.0.1", m.group(0)
        if self.port == 0:
            self.port = port
            self.write_config()
        assert port == self.port, m.group(0)
        self.url = f"http://127.0.0.1:{port}"
        self.public_key = m.group(2)
        self.wait_serving()
        return self

    def wait_serving(self):
        """Waits for the first admin answer: only then does the loop run (and handle SIGTERM)."""
        deadline = time.monotonic() + SERVER_READY_S
        while True:
            result = self.ctl("users", "list", "--json")
            if result.returncode == 0:
                return
            assert self.proc.proc.poll() is None, (
                f"warren control serve exited {self.proc.proc.returncode}:\n{self.proc.output()}")
            assert time.monotonic() < deadline, (
                f"the control server did not answer within {SERVER_READY_S} s:\n"
                f"{describe(result)}\nserver output:\n{self.proc.output()}")
            time.sleep(0.05)

    def stop(self):
        code = self.proc.stop()
        assert code == 0, f"warren control serve exited {code} on SIGTERM:\n{self.proc.output()}"

    def kill9(self):
        os.killpg(self.proc.proc.pid, signal.SIGKILL)
        self.proc.proc.wait(timeout=COMMAND_TIMEOUT_S)

    def ctl(self, *args):
        return self.warren.run("control", "--state-dir", self.state_dir, *args)

    def ok(self, *args):
        result = self.ctl(*args)
        assert result.returncode == 0, describe(result)
        return result

    def json(self, *args):
        result = self.ok(*args, "--json")
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"--json printed no JSON ({e}):\n{describe(result)}")

    def create_key(self, user="alice", *flags):
        if user not in user_names(self.json("users", "list")):
            self.ok("users", "create", user)
        result = self.ok("keys", "create", "--user", user, *flags)
        m = AUTH_KEY.search(result.stdout)
        assert m, f"`keys create` printed no key:\n{describe(result)}"
        return m.group(0)


def items(listing, *keys):
    """A --json list: a JSON array, or an object holding one under one of `keys`."""
    if isinstance(listing, dict):
        for k in keys:
            if isinstance(listing.get(k), list):
                return listing[k]
    assert isinstance(listing, list), f"expected a JSON list, got {listing!r}"
    return listing


def user_names(listing):
    return {u["name"] for u in items(listing, "users")}


def node_names(listing):
    return {n["name"] for n in items(listing, "nodes")}


class Netmap:
    """What one `warren debug netmap` run printed."""

    def __init__(self, result):
        self.result = result
        self.lines = []
        for line in result.stdout.splitlines():
            if line.strip():
                try:
                    self.lines.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise AssertionError(f"netmap printed a line that is not JSON ({e}):\n"
                                         f"{describe(result)}")

    @property
    def registered(self):
        found = [l for l in self.lines if l.get("type") == "registered"]
        assert found, f"no registration line:\n{describe(self.result)}"
        return found[-1]["node"]

    @property
    def maps(self):
        return [l for l in self.lines if l.get("type") == "map"]

    @property
    def last(self):
        assert self.maps, f"no map line:\n{describe(self.result)}"
        return self.maps[-1]

    def peer(self, name):
        for p in self.last["peers"]:
            if p["name"] == name:
                return p
        return None

    def peer_names(self):
        return {p["name"] for p in self.last["peers"]}


def netmap_args(server, state_dir, hostname, key=None, count=1, extra=()):
    args = ["debug", "netmap", "--control", server.url, "--state-dir", state_dir,
            "--hostname", hostname, "--count", count, "--timeout", NETMAP_TIMEOUT_S]
    if key:
        args += ["--auth-key", key]
    return args + list(extra)


def netmap(warren, server, state_dir, hostname, key=None, count=1, extra=(), expect_ok=True):
    result = warren.run(*netmap_args(server, state_dir, hostname, key, count, extra),
                        timeout=NETMAP_TIMEOUT_S + 30)
    if expect_ok:
        assert result.returncode == 0, describe(result)
        return Netmap(result)
    return result


@pytest.fixture
def control(warren, spawn, tmp_path):
    return ControlServer(warren, spawn, tmp_path).start()


def overlay_addresses(node):
    addrs = [ipaddress.ip_address(a.split("/")[0]) for a in node["addresses"]]
    v4 = [a for a in addrs if a.version == 4]
    v6 = [a for a in addrs if a.version == 6]
    assert len(v4) == 1 and len(v6) == 1, node
    return v4[0], v6[0]


# --- users and keys ---------------------------------------------------------------------------

def test_users_create_and_list(control):
    control.ok("users", "create", "alice")
    control.ok("users", "create", "bob")

    assert {"alice", "bob"} <= user_names(control.json("users", "list"))
    again = control.ctl("users", "create", "alice")
    assert again.returncode != 0 and "alice" in again.stderr, describe(again)


def test_keys_create_list_and_expire(control):
    control.ok("users", "create", "alice")
    result = control.ok("keys", "create", "--user", "alice", "--reusable", "--ephemeral",
                        "--expiration", "1h", "--tags", "tag:web,tag:db")
    key = AUTH_KEY.search(result.stdout)
    assert key, describe(result)
    prefix = key.group(0)[:len("wk-") + 12]

    keys = items(control.json("keys", "list"), "keys")
    listed = [k for k in keys if k.get("prefix") == prefix]
    assert len(listed) == 1, keys
    k = listed[0]
    assert k["reusable"] is True and k["ephemeral"] is True, k
    assert set(k["tags"]) == {"tag:web", "tag:db"}, k
    assert key.group(0) not in json.dumps(keys), "the full key is shown once, never listed"

    control.ok("keys", "expire", prefix)
    k = [k for k in items(control.json("keys", "list"), "keys") if k["prefix"] == prefix][0]
    assert k.get("revoked") is True or k.get("usable") is False, k


def test_keys_create_for_unknown_user_fails_clearly(control):
    result = control.ctl("keys", "create", "--user", "nobody")
    assert result.returncode != 0, describe(result)
    assert "nobody" in result.stderr, describe(result)


# --- registration and maps --------------------------------------------------------------------

def test_two_clients_register_and_see_each_other(control, warren, tmp_path):
    key = control.create_key("alice", "--reusable")

    a1 = netmap(warren, control, tmp_path / "a", "alpha", key)
    b = netmap(warren, control, tmp_path / "b", "beta", key)
    a2 = netmap(warren, control, tmp_path / "a", "alpha", key)

    a_v4, a_v6 = overlay_addresses(a1.registered)
    b_v4, b_v6 = overlay_addresses(b.registered)
    for addr in (a_v4, b_v4):
        assert addr in OVERLAY_V4
    for addr in (a_v6, b_v6):
        assert addr in OVERLAY_V6
    assert (a_v4, a_v6) != (b_v4, b_v6)
    assert b.peer("alpha") is not None, b.last
    assert overlay_addresses(b.peer("alpha")) == (a_v4, a_v6)
    assert a2.peer("beta") is not None, a2.last
    assert overlay_addresses(a2.peer("beta")) == (b_v4, b_v6)
    # The same machine (state dir) keeps its node and addresses.
    assert a2.registered["id"] == a1.registered["id"]
    assert overlay_addresses(a2.registered) == (a_v4, a_v6)


def test_a_running_client_gets_a_new_peer_as_a_delta(control, warren, spawn, tmp_path):
    key = control.create_key("alice", "--reusable")
    watcher = spawn([warren.binary] + [str(a) for a in netmap_args(
        control, tmp_path / "a", "alpha", key, count=2)], name="netmap alpha")
    watcher.wait_for(r'"type":"map"', NETMAP_TIMEOUT_S)

    netmap(warren, control, tmp_path / "b", "beta", key)

    second = json.loads(watcher.wait_for_lines(r'"type":"map"', 2, NETMAP_TIMEOUT_S)[1].string)
    assert second["full"] is False, second
    assert "beta" in {p["name"] for p in second["peers"]}, second
    assert watcher.proc.wait(timeout=NETMAP_TIMEOUT_S) == 0, "--count 2 reached: exit 0"


def test_server_key_is_pinned_on_first_use(control, warren, tmp_path):
    key = control.create_key()
    first = netmap(warren, control, tmp_path / "a", "alpha", key)
    pinned = (tmp_path / "a" / "control-server.pub").read_text().strip()
    assert pinned == first.lines[0]["server_key"] == control.public_key, first.lines[0]
    assert oct((tmp_path / "a").stat().st_mode & 0o777) == oct(0o700)
    for name in ("machine.key", "node.key", "disco.key"):
        assert (tmp_path / "a" / name).stat().st_mode & 0o777 == 0o600, name

    (tmp_path / "a" / "control-server.pub").write_text(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    result = netmap(warren, control, tmp_path / "a", "alpha", key, expect_ok=False)
    assert result.returncode == 1, describe(result)
    assert "control-server.pub" in result.stderr, describe(result)


@pytest.mark.parametrize("how, says", [
    pytest.param("used", "already used", id="used-single-use-key"),
    pytest.param("revoked", "revoked", id="revoked-key"),
    pytest.param("expired", "expired", id="expired-key"),
    pytest.param("unknown", "unknown auth key", id="unknown-key"),
])
def test_unusable_keys_are_refused_with_a_clear_message(control, warren, tmp_path, how, says):
    if how == "expired":
        key = control.create_key("alice", "--expiration", "1s")
        time.sleep(1.5)
    elif how == "unknown":
        control.create_key("alice")
        key = "wk-000000000000-" + "A" * 43
    else:
        key = control.create_key("alice")
    if how == "used":
        netmap(warren, control, tmp_path / "first", "first", key)
    if how == "revoked":
        control.ok("keys", "expire", key[:len("wk-") + 12])

    result = netmap(warren, control, tmp_path / "late", "late", key, expect_ok=False)

    assert result.returncode == 1, describe(result)
    assert says in result.stderr, describe(result)
    assert "Segmentation" not in result.stderr
    assert "late" not in node_names(control.json("nodes", "list"))


# --- nodes ------------------------------------------------------------------------------------

def test_nodes_list_rename_expire_delete(control, warren, tmp_path):
    key = control.create_key("alice", "--reusable")
    netmap(warren, control, tmp_path / "a", "alpha", key)
    netmap(warren, control, tmp_path / "b", "beta", key)
    netmap(warren, control, tmp_path / "c", "gamma", key)
    assert {"alpha", "beta", "gamma"} <= node_names(control.json("nodes", "list"))

    control.ok("nodes", "rename", "beta", "laptop")
    assert "laptop" in node_names(control.json("nodes", "list"))
    assert netmap(warren, control, tmp_path / "a", "alpha").peer_names() == {"laptop", "gamma"}

    control.ok("nodes", "expire", "gamma")
    assert "gamma" not in netmap(warren, control, tmp_path / "a", "alpha").peer_names()

    control.ok("nodes", "delete", "laptop")
    assert "laptop" not in node_names(control.json("nodes", "list"))
    assert "laptop" not in netmap(warren, control, tmp_path / "a", "alpha").peer_names()


def test_deleted_node_disappears_from_a_running_peers_map(control, warren, spawn, tmp_path):
    key = control.create_key("alice", "--reusable")
    netmap(warren, control, tmp_path / "b", "beta", key)
    watcher = spawn([warren.binary] + [str(a) for a in netmap_args(
        control, tmp_path / "a", "alpha", key, count=2)], name="netmap alpha")
    first = json.loads(watcher.wait_for(r'"type":"map"', NETMAP_TIMEOUT_S).string)
    assert "beta" in {p["name"] for p in first["peers"]}, first

    control.ok("nodes", "delete", "beta")

    second = json.loads(watcher.wait_for_lines(r'"type":"map"', 2, NETMAP_TIMEOUT_S)[1].string)
    assert "beta" not in {p["name"] for p in second["peers"]}, second
    assert second["changes"]["peers_removed"] == [first["peers"][0]["id"]], second
    assert watcher.proc.wait(timeout=NETMAP_TIMEOUT_S) == 0, "--count 2 reached: exit 0"


# --- routes -----------------------------------------------------------------------------------

def test_routes_are_distributed_only_after_approval(control, warren, tmp_path):
    key = control.create_key("alice", "--reusable")
    netmap(warren, control, tmp_path / "r", "router", key,
           extra=["--advertise-routes", "192.168.50.0/24,0.0.0.0/0,::/0"])

    routes = json.dumps(control.json("routes", "list"))
    assert "192.168.50.0/24" in routes, routes
    seen = netmap(warren, control, tmp_path / "l", "laptop", key).peer("router")
    assert seen is not None and seen["routes"] == [], seen

    control.ok("routes", "approve", "router", "192.168.50.0/24")

    seen = netmap(warren, control, tmp_path / "l", "laptop").peer("router")
    assert seen["routes"] == ["192.168.50.0/24"], seen

    refused = control.ctl("routes", "approve", "router", "10.9.9.0/24")
    assert refused.returncode != 0 and "10.9.9.0/24" in refused.stderr, describe(refused)


# --- policy -----------------------------------------------------------------------------------

GOOD_POLICY = """{
  "acls": [
    {"action": "accept", "src": ["alice"], "dst": ["alice:*"]}
  ]
}
"""

BAD_POLICIES = {
    "syntax": """{
  "acls": [
    {"action": "accept" "src": ["*"], "dst": ["*:*"]}
  ]
}
""",
    "undefined-group": """{
  "acls": [
    {"action": "accept", "src": ["group:nobody"], "dst": ["*:*"]}
  ]
}
""",
}


@pytest.mark.parametrize("kind", sorted(BAD_POLICIES))
def test_bad_policy_is_rejected_with_its_line_and_the_old_one_stays(control, tmp_path, kind):
    good = tmp_path / "good.json"
    good.write_text(GOOD_POLICY)
    control.ok("policy", "set", good)
    bad = tmp_path / "bad.json"
    bad.write_text(BAD_POLICIES[kind])

    result = control.ctl("policy", "set", bad)

    assert result.returncode != 0, describe(result)
    assert re.search(r"line 3\b", result.stderr), describe(result)
    assert control.ok("policy", "get").stdout.strip() == GOOD_POLICY.strip()


def test_policy_limits_which_peers_a_node_sees(control, warren, tmp_path):
    alice_key = control.create_key("alice", "--reusable")
    bob_key = control.create_key("bob", "--reusable")
    netmap(warren, control, tmp_path / "a1", "a1", alice_key)
    netmap(warren, control, tmp_path / "a2", "a2", alice_key)
    netmap(warren, control, tmp_path / "b1", "b1", bob_key)
    assert netmap(warren, control, tmp_path / "a1", "a1").peer_names() == {"a2", "b1"}

    policy = tmp_path / "policy.json"
    policy.write_text(GOOD_POLICY)
    control.ok("policy", "set", policy)

    a1 = netmap(warren, control, tmp_path / "a1", "a1")
    assert a1.peer_names() == {"a2"}, a1.last
    assert a1.last["packet_filter"], "alice's nodes accept traffic from alice"
    assert netmap(warren, control, tmp_path / "b1", "b1").peer_names() == set()


# --- persistence ------------------------------------------------------------------------------

def test_restart_keeps_every_nodes_addresses(control, warren, tmp_path):
    key = control.create_key("alice", "--reusable")
    before = {name: overlay_addresses(netmap(warren, control, tmp_path / name, name, key).registered)
              for name in ("alpha", "beta")}

    control.stop()
    control.start()

    for name in ("alpha", "beta"):
        after = netmap(warren, control, tmp_path / name, name).registered
        assert overlay_addresses(after) == before[name], name


def test_kill_9_loses_no_acknowledged_change(warren, spawn, tmp_path):
    server = ControlServer(warren, spawn, tmp_path).start(expect_clean_exit=False)
    server.ok("users", "create", "carol")
    key = server.create_key("carol")

    server.kill9()
    server.start(expect_clean_exit=False)

    assert "carol" in user_names(server.json("users", "list"))
    prefixes = {k["prefix"] for k in items(server.json("keys", "list"), "keys")}
    assert key[:len("wk-") + 12] in prefixes
    registered = netmap(warren, server, tmp_path / "n", "node", key).registered
    assert registered["user"] == "carol"


def test_corrupt_database_stops_serve_with_a_clear_message(control, warren):
    control.stop()
    db = control.state_dir / "control.db"
    assert db.exists(), sorted(p.name for p in control.state_dir.iterdir())
    for suffix in ("-wal", "-shm"):
        extra = control.state_dir / ("control.db" + suffix)
        if extra.exists():
            extra.unlink()
    db.write_bytes(b"this is not an SQLite database, just garbage " * 100)

    result = warren.run("control", "serve", "--config", control.config)

    assert result.returncode != 0, describe(result)
    assert "control.db" in result.stderr, describe(result)
    assert "Segmentation" not in result.stderr and "terminate called" not in result.stderr


# --- the admin CLI's own errors ---------------------------------------------------------------

def test_unknown_admin_socket_is_a_clear_error(warren, tmp_path):
    missing = tmp_path / "nowhere" / "admin.sock"

    result = warren.run("control", "--socket", missing, "users", "list")

    assert result.returncode == 1, describe(result)
    assert str(missing) in result.stderr, describe(result)


def test_netmap_without_a_server_times_out_with_exit_1(warren, tmp_path):
    port = free_port("127.0.0.1", tcp_too=True)
    result = warren.run("debug", "netmap", "--control", f"http://127.0.0.1:{port}",
                        "--state-dir", tmp_path / "n", "--auth-key", "wk-x", "--count", 1,
                        "--timeout", 2, timeout=40)
    assert result.returncode == 1, describe(result)
    assert "not registered" in result.stderr, describe(result)


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "https://127.0.0.1:8080", "http://[::1:80"])
def test_netmap_with_a_bad_url_exits_2(warren, tmp_path, url):
    result = warren.run("debug", "netmap", "--control", url, "--state-dir", tmp_path / "n")
    assert result.returncode == 2, describe(result)
    assert "--control" in result.stderr, describe(result)
