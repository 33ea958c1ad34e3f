"""A real Linux NAT between a client and a server, built from network namespaces.

    wrn-cli-<pid>-<n>                wrn-rtr-<pid>-<n>                      wrn-srv-<pid>-<n>
    eth0 192.168.77.10/24 ── lan0 192.168.77.1/24 | wan0 203.0.113.1/24 ── eth0 203.0.113.10/24
    default via .1                   ip_forward=1, nftables:                (no route to the LAN:
                                     oifname "wan0" masquerade [fully-random]  replies only reach
                                                                             the client through NAT)

Addresses are documentation ranges (RFC 5737) and a private LAN; the namespaces have no link to
the host's own network, so no packet leaves them. Names carry the test process id and a counter,
so parallel runs never collide; `remove_stale()` deletes labs whose process died without cleanup.
"""

import functools
import itertools
import os
import re
import shutil
import subprocess

from procs import run

SERVER_IP = "203.0.113.10"
ROUTER_PUBLIC_IP = "203.0.113.1"
ROUTER_LAN_IP = "192.168.77.1"
CLIENT_IP = "192.168.77.10"

# `ip`, `nft`, `sysctl` and `conntrack` answer in milliseconds; this only guards against a hang.
COMMAND_TIMEOUT_S = 20
NAME_PREFIX = "wrn-"
NAME_PATTERN = re.compile(r"^wrn-(?:srv|rtr|cli|probe)-(\d+)(?:-\d+)?$")

_counter = itertools.count()


def sh(argv, input_text=None):
    """Runs a setup command; raises with its stderr when it fails."""
    result = subprocess.run([str(a) for a in argv], input=input_text, capture_output=True,
                            text=True, timeout=COMMAND_TIMEOUT_S,
                            stdin=None if input_text is not None else subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, argv))}` failed ({result.returncode}): "
                           f"{result.stderr.strip()}")
    return result.stdout


@functools.lru_cache(maxsize=None)
def unavailable_reason():
    """Why this machine cannot run namespace tests, or None when it can (probed once)."""
    if os.geteuid() != 0:
        return "network namespace tests need root (CI runs them as root)"
    for tool in ("ip", "nft", "conntrack", "sysctl"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed; run scripts/setup.sh"
    probe = f"{NAME_PREFIX}probe-{os.getpid()}"
    try:
        sh(["ip", "netns", "add", probe])
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        return f"cannot create a network namespace here: {e}"
    try:
        sh(["ip", "netns", "del", probe])
    except (RuntimeError, subprocess.TimeoutExpired):
        pass
    return None


def list_namespaces():
    out = sh(["ip", "netns", "list"])
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def delete_namespace(name):
    """Kills every process in the namespace, then deletes it (a live process would keep it)."""
    try:
        pids = sh(["ip", "netns", "pids", name]).split()
    except (RuntimeError, subprocess.TimeoutExpired):
        pids = []
    for pid in pids:
        try:
            os.kill(int(pid), 9)
        except (ProcessLookupError, ValueError):
            pass
    try:
        sh(["ip", "netns", "del", name])
    except (RuntimeError, subprocess.TimeoutExpired):
        pass


def remove_stale():
    """Deletes namespaces left by earlier test runs whose process no longer exists."""
    for name in list_namespaces():
        m = NAME_PATTERN.match(name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            delete_namespace(name)


class NatLab:
    """Three namespaces with a masquerading router between client and server.

    `masquerade` is the nftables statement on the router's outside interface:
    "masquerade" (Linux keeps the source port when it is free) or "masquerade fully-random"
    (a random port for every new flow). Use as a context manager: exit always deletes
    every namespace, and with them the veths and any process left inside.
    """

    def __init__(self, masquerade="masquerade"):
        tag = f"{os.getpid()}-{next(_counter)}"
        self.server = f"{NAME_PREFIX}srv-{tag}"
        self.router = f"{NAME_PREFIX}rtr-{tag}"
        self.client = f"{NAME_PREFIX}cli-{tag}"
        self.masquerade = masquerade
        self._created = []

    def __enter__(self):
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        for name in reversed(self._created):
            delete_namespace(name)
        self._created = []

    def exec_prefix(self, ns):
        return ["ip", "netns", "exec", ns]

    def _build(self):
        for ns in (self.server, self.router, self.client):
            sh(["ip", "netns", "add", ns])
            self._created.append(ns)
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        # Each veth is created inside the router and its peer moved straight into the other
        # namespace, so no interface name ever exists in the host namespace.
        sh(["ip", "-n", self.router, "link", "add", "wan0", "type", "veth",
            "peer", "name", "eth0", "netns", self.server])
        sh(["ip", "-n", self.router, "link", "add", "lan0", "type", "veth",
            "peer", "name", "eth0", "netns", self.client])
        for ns, dev, cidr in (
            (self.server, "eth0", f"{SERVER_IP}/24"),
            (self.router, "wan0", f"{ROUTER_PUBLIC_IP}/24"),
            (self.router, "lan0", f"{ROUTER_LAN_IP}/24"),
            (self.client, "eth0", f"{CLIENT_IP}/24"),
        ):
            sh(["ip", "-n", ns, "addr", "add", cidr, "dev", dev])
            sh(["ip", "-n", ns, "link", "set", dev, "up"])
        sh(["ip", "-n", self.client, "route", "add", "default", "via", ROUTER_LAN_IP])
        sh(["ip", "netns", "exec", self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        ruleset = (
            "table ip warren_nat {\n"
            "  chain postrouting {\n"
            "    type nat hook postrouting priority srcnat; policy accept;\n"
            f'    oifname "wan0" {self.masquerade}\n'
            "  }\n"
            "}\n"
        )
        sh(["ip", "netns", "exec", self.router, "nft", "-f", "-"], input_text=ruleset)

    def udp_mappings(self, server_port):
        """The router's conntrack entries for UDP flows from the client to SERVER_IP:server_port,
        as a list of (client_port, public_port): the port the real NAT chose for each flow."""
        out = run(self.exec_prefix(self.router) + ["conntrack", "-L", "-p", "udp"],
                  timeout=COMMAND_TIMEOUT_S, check_sanitizers=False).stdout
        pattern = re.compile(
            rf"src={re.escape(CLIENT_IP)} dst={re.escape(SERVER_IP)} sport=(\d+) dport={server_port}\b"
            rf".*?src={re.escape(SERVER_IP)} dst={re.escape(ROUTER_PUBLIC_IP)} sport={server_port} dport=(\d+)"
        )
        return [(int(m.group(1)), int(m.group(2))) for m in map(pattern.search, out.splitlines()) if m]
