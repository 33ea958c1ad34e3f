"""Fixtures for the end-to-end tests: the warren binary, background processes, free ports.

The binary comes from $WARREN_BIN (scripts/test.sh passes the release or the sanitizer build),
or build/nodes/cli/warren under the repository root.

Missing prerequisites skip a test locally and fail it in CI (see environment.require).
"""

import os
from pathlib import Path

import pytest

import netns
from environment import REPO_ROOT
from procs import Background, check_no_sanitizer_report
from warren_cli import Warren


def pytest_sessionstart(session):
    # Namespaces from an earlier run that was killed before its cleanup ran.
    if os.geteuid() == 0 and netns.unavailable_reason() is None:
        netns.remove_stale()


@pytest.fixture(scope="session")
def warren_bin():
    path = Path(os.environ.get("WARREN_BIN") or REPO_ROOT / "build/nodes/cli/warren")
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"warren binary not found at {path}: build it (scripts/test.sh --quick) or set "
                    f"WARREN_BIN to its path", pytrace=False)
    return path


class Spawner:
    """spawn(argv, name=None, expect_clean_exit=True) -> procs.Background.

    stop_all() stops every process started here, last started first. A process with
    expect_clean_exit must then have exited 0 (warren's servers do on SIGTERM) without
    printing a sanitizer report; what went wrong is collected in `problems`.
    """

    def __init__(self):
        self.started = []
        self.problems = []

    def __call__(self, argv, name=None, expect_clean_exit=True):
        proc = Background(argv, name=name)
        self.started.append((proc, expect_clean_exit))
        return proc

    def stop_all(self):
        while self.started:
            proc, expect_clean_exit = self.started.pop()
            code = proc.stop()
            output = proc.output()
            print(f"--- {proc.name} (exit {code}): {' '.join(proc.argv)}\n{output}")
            if not expect_clean_exit:
                continue
            if code != 0:
                self.problems.append(f"{proc.name} exited {code} after SIGTERM instead of 0:\n{output}")
            try:
                check_no_sanitizer_report(proc.name, output)
            except AssertionError as e:
                self.problems.append(str(e))


@pytest.fixture
def spawn():
    """Starts background processes; all are stopped at teardown, pass or fail (see Spawner)."""
    spawner = Spawner()
    yield spawner
    spawner.stop_all()
    if spawner.problems:
        pytest.fail("\n\n".join(spawner.problems), pytrace=False)


@pytest.fixture
def warren(warren_bin, spawn):
    return Warren(warren_bin, spawn)
