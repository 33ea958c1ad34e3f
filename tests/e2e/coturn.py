"""Debian's coturn (4.6.1) as an interop oracle: a STUN server and a STUN client nobody here wrote.

Pinned by hand on Debian 12:

  turnserver -n -v --stun-only --no-tls --no-dtls --no-cli --no-rfc5780 \
      --listening-ip=127.0.0.1 [--listening-ip=::1] --listening-port=PORT \
      --log-file=stdout --simple-log --pidfile=DIR/turnserver.pid --userdb=DIR/turndb

  -n            no configuration file (ignores /etc/turnserver.conf)
  -v            prints "IPv4. UDP listener opened on: 127.0.0.1:PORT" (and "IPv6. ... on: ::1:PORT")
                once a socket is open; without it nothing tells us it is ready
  --stun-only   answers binding requests, ignores TURN allocations
  --no-rfc5780  no CHANGE-REQUEST support, so it binds only PORT (not PORT+1)
  --pidfile, --userdb   keep it out of /var/run and /var/lib/turn
  It also listens on TCP PORT, so the port must be free for both protocols.

  turnutils_stunclient -p PORT ADDR
  prints (twice) "0: : IPv4. UDP reflexive addr: 127.0.0.1:40546" or
  "0: : IPv6. UDP reflexive addr: ::1:53167" and exits 0. With no answer it waits forever,
  so it always runs under a timeout.
"""

import re
import shutil

from procs import run

# A few retries of a UDP request on loopback or a veth finish well within this.
STUNCLIENT_TIMEOUT_S = 10
# turnserver starts its listeners within a second on an idle machine; a loaded 2-core CI
# runner with sanitizer builds running alongside gets ten times that.
TURNSERVER_READY_S = 20

REFLEXIVE = re.compile(r"UDP reflexive addr: (\S+):(\d+)\s*$")


def available():
    missing = [t for t in ("turnserver", "turnutils_stunclient") if shutil.which(t) is None]
    return None if not missing else f"coturn tools not installed ({', '.join(missing)}); run scripts/setup.sh"


def turnserver_argv(listen_ips, port, workdir):
    argv = [
        "turnserver", "-n", "-v", "--stun-only", "--no-tls", "--no-dtls", "--no-cli",
        "--no-rfc5780", f"--listening-port={port}",
        "--log-file=stdout", "--simple-log",
        f"--pidfile={workdir}/turnserver.pid", f"--userdb={workdir}/turndb",
    ]
    argv += [f"--listening-ip={ip}" for ip in listen_ips]
    return argv


def start_turnserver(spawn, listen_ips, port, workdir, prefix=()):
    """Starts turnserver (optionally under `prefix`, e.g. `ip netns exec NS`) and waits until
    its UDP listener is open on every address."""
    server = spawn(list(prefix) + turnserver_argv(listen_ips, port, workdir), name="turnserver",
                   expect_clean_exit=False)
    for ip in listen_ips:
        server.wait_for(rf"UDP listener opened on: ?{re.escape(ip)}:{port}\b", TURNSERVER_READY_S)
    return server


def stunclient(server_ip, port, prefix=()):
    """Asks the STUN server at server_ip:port for our reflexive address; returns (ip, port)."""
    argv = list(prefix) + ["turnutils_stunclient", "-p", str(port), server_ip]
    result = run(argv, timeout=STUNCLIENT_TIMEOUT_S, check_sanitizers=False)
    assert result.returncode == 0, f"turnutils_stunclient failed:\n{result.stdout}{result.stderr}"
    for line in result.stdout.splitlines():
        m = REFLEXIVE.search(line)
        if m:
            return m.group(1), int(m.group(2))
    raise AssertionError(f"no 'UDP reflexive addr' line from turnutils_stunclient:\n{result.stdout}")
