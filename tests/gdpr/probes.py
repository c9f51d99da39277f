"""Test-only providers that let a fault test stop or kill the worker at a chosen step.

They register only in a worker started with GDPR_PROBE_DIR (see conftest.crash_worker), so no
other test and no real request ever walks them. Every call leaves a line in a file of the probe
folder, which is how a test counts how many times a step really ran.

Files in the probe folder steer the blocker:
- ``block``: wait (at most PROBE_WAIT seconds) after writing ``reached``, until ``release``
  appears or the process is killed;
- ``crash``: the worker process kills itself with SIGKILL, as an out-of-memory kill would.
"""

import os
import signal
import time
from pathlib import Path

from apps.gdpr.registry import ORDER_ADMIN_LOG, Provider, Subject, register

PROBE_WAIT = 60


def _folder() -> Path:
    return Path(os.environ["GDPR_PROBE_DIR"])


def _log(name: str) -> None:
    with open(_folder() / f"{name}.log", "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\n")


class CounterProbe(Provider):
    """Runs just before the blocker: its log proves a finished step was not run again."""

    name = "probe_counter"
    order = ORDER_ADMIN_LOG - 2

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        return {}

    def erase(self, subject: Subject) -> dict:
        _log(self.name)
        return {"calls": 1}


class BlockerProbe(Provider):
    name = "probe_blocker"
    order = ORDER_ADMIN_LOG - 1

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        return {}

    def erase(self, subject: Subject) -> dict:
        folder = _folder()
        _log(self.name)
        if (folder / "crash").exists():
            os.kill(os.getpid(), signal.SIGKILL)
        if (folder / "block").exists():
            (folder / "reached").write_text(str(os.getpid()))
            deadline = time.monotonic() + PROBE_WAIT
            while not (folder / "release").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return {"calls": 1}


def install() -> None:
    if os.environ.get("GDPR_PROBE_DIR"):
        register(CounterProbe)
        register(BlockerProbe)
