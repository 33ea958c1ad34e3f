"""Processes for end-to-end tests: one-shot commands and background servers.

Every wait is bounded: one-shot commands take a timeout, background processes are waited on
with a deadline and are always stopped (SIGTERM, then SIGKILL) by whoever started them.
Output of every warren process is scanned for sanitizer reports, because under
AddressSanitizer an error exits with status 1, which a test expecting a failure would accept.
"""

import os
import re
import signal
import subprocess
import threading
import time

# A report from ASan, LSan or UBSan anywhere in a process's output fails the test.
SANITIZER_REPORT = re.compile(
    r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error: |SUMMARY: UndefinedBehaviorSanitizer"
)

# How long a stopped process may take to exit after SIGTERM before it gets SIGKILL.
STOP_GRACE_S = 5.0


def check_no_sanitizer_report(what, output):
    m = SANITIZER_REPORT.search(output or "")
    if m:
        raise AssertionError(f"{what} printed a sanitizer report:\n{output}")


def run(argv, timeout, check_sanitizers=True):
    """Runs argv to completion with no stdin; returns CompletedProcess (text stdout/stderr).

    Raises subprocess.TimeoutExpired (after killing the child) when it takes longer than timeout.
    """
    result = subprocess.run(
        [str(a) for a in argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check_sanitizers:
        check_no_sanitizer_report(" ".join(map(str, argv)), result.stdout + result.stderr)
    return result


def describe(result):
    return (
        f"command: {' '.join(map(str, result.args))}\nexit: {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


class Background:
    """A process running in its own session, its stdout and stderr merged and read line by line."""

    def __init__(self, argv, name=None):
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        self.lines = []
        self._eof = False
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def output(self):
        with self._cond:
            return "\n".join(self.lines)

    def wait_for_lines(self, pattern, count, timeout):
        """Returns the first `count` matches of regex `pattern`, one per output line.

        Fails when the process exits first or when `timeout` seconds pass.
        """
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        matches = []
        seen = 0
        with self._cond:
            while True:
                while seen < len(self.lines):
                    m = regex.search(self.lines[seen])
                    seen += 1
                    if m:
                        matches.append(m)
                        if len(matches) == count:
                            return matches
                if self._eof:
                    self.proc.wait(timeout=STOP_GRACE_S)
                    raise AssertionError(
                        f"{self.name} exited with {self.proc.returncode} before printing "
                        f"{count} line(s) matching /{pattern}/; command: {' '.join(self.argv)}\n"
                        f"output:\n{chr(10).join(self.lines)}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{self.name} printed no {count} line(s) matching /{pattern}/ within "
                        f"{timeout} s; command: {' '.join(self.argv)}\n"
                        f"output so far:\n{chr(10).join(self.lines)}"
                    )
                self._cond.wait(remaining)

    def wait_for(self, pattern, timeout):
        return self.wait_for_lines(pattern, 1, timeout)[0]

    def stop(self):
        """SIGTERM to the whole session, SIGKILL after STOP_GRACE_S; returns the exit status."""
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(timeout=STOP_GRACE_S)
        self._reader.join(timeout=STOP_GRACE_S)
        return self.proc.returncode

    def _signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
