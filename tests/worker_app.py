"""The Celery app as the test suite's worker runs it: the real one, plus a readiness signal.

The worker writes a file once it is ready to consume, so the test session waits exactly as long
as start-up takes instead of sleeping a guessed interval.
"""

import os
from pathlib import Path

from celery.signals import worker_ready

from config.celery import app

__all__ = ["app"]


@worker_ready.connect
def _announce_ready(**kwargs):
    ready_file = os.environ.get("PORTAL_WORKER_READY_FILE")
    if ready_file:
        Path(ready_file).write_text("ready")
