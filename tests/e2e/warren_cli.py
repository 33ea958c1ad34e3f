"""Drives the `warren` binary the way a user or a script would, and reads what it prints.

Output formats these tests rely on (nodes/cli/cmd_stun.cc):
  warren stun-server --listen ADDR:PORT ...   one "listening on ADDR:PORT" line per socket on
                                              stdout, flushed before it serves; runs until
                                              SIGTERM/SIGINT, then exits 0
  warren stun HOST:PORT                       "mapped ADDR:PORT (server ADDR:PORT, rtt X ms)"
  warren stun HOST:PORT --json                {"server": "...", "mapped": "ADDR:PORT",
                                               "local": "ADDR:PORT", "rtt_ms": X, "transmissions": N}
Endpoints print as "192.0.2.1:3478" or "[2001:db8::1]:3478".
"""

import json
import re

from procs import describe, run

# A probe on loopback or a veth answers in milliseconds; sanitizer builds are slower to start.
STUN_TIMEOUT_S = 3
COMMAND_TIMEOUT_S = 60
SERVER_READY_S = 20

LISTENING = re.compile(r"^listening on (\S+)$")
MAPPED_TEXT = re.compile(r"^mapped (\S+) \(server (\S+),")


def parse_endpoint(text):
    """'192.0.2.1:3478' -> ('192.0.2.1', 3478); '[2001:db8::1]:3478' -> ('2001:db8::1', 3478)."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)|([0-9.]+):(\d+)", text)
    assert m, f"not an endpoint: {text!r}"
    if m.group(1) is not None:
        return m.group(1), int(m.group(2))
    return m.group(3), int(m.group(4))


def format_endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


class Warren:
    def __init__(self, binary, spawn):
        self.binary = str(binary)
        self._spawn = spawn

    def run(self, *args, prefix=(), timeout=COMMAND_TIMEOUT_S):
        return run(list(prefix) + [self.binary] + [str(a) for a in args], timeout=timeout)

    def stun_server(self, *listen, prefix=()):
        """Starts `warren stun-server --listen ...`; returns (process, [(ip, port), ...])."""
        argv = list(prefix) + [self.binary, "stun-server"]
        for endpoint in listen:
            argv += ["--listen", endpoint]
        server = self._spawn(argv, name="warren stun-server")
        lines = server.wait_for_lines(LISTENING.pattern, len(listen), SERVER_READY_S)
        return server, [parse_endpoint(m.group(1)) for m in lines]

    def stun(self, server, *extra, prefix=()):
        """Runs `warren stun SERVER --json ...`, asserts success, returns the parsed JSON."""
        result = self.run("stun", server, "--json", "--timeout", STUN_TIMEOUT_S, *extra,
                          prefix=prefix)
        assert result.returncode == 0, describe(result)
        try:
            answer = json.loads(result.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"`warren stun --json` printed no JSON ({e}):\n{describe(result)}")
        for key in ("server", "mapped", "local", "rtt_ms", "transmissions"):
            assert key in answer, f"`warren stun --json` lacks {key!r}:\n{result.stdout}"
        return answer
