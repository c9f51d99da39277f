"""Fixtures for the privacy tests: the people involved and a worker a test may kill."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from config.celery import app as celery_app
from tests.conftest import REPO_ROOT, WORKER_READY_TIMEOUT, Mailbox, give_permissions, make_person
from tests.gdpr.lifeline import die_with_parent
from tests.support import STRONG_PASSWORD, force_login_verified


@pytest.fixture
def privacy_officer(db):
    """Priya, compliance staff who work the data-subject request queue."""
    user = make_person("priya@example.com", is_staff=True)
    return give_permissions(
        user, "privacy-requests:read:all", "privacy-requests:write:all", "consents:read:all"
    )


@pytest.fixture
def erin(db):
    """Erin, a customer who wants her data erased."""
    return make_person("erin.subject@example.com")


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    url = f"postgres://{db['USER'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    if db.get("PASSWORD"):
        url = url.replace("@", f":{db['PASSWORD']}@", 1)
    return f"{url}/{db['NAME']}"


class KillableWorker:
    """Celery workers on a queue of their own, each in its own process group.

    ``start()`` launches one and waits until it consumes; ``kill()`` sends SIGKILL to the whole
    group (main process and pool children) without any chance to acknowledge or requeue, as a
    machine losing power would. Tasks enqueued during the test go to this queue only.
    """

    def __init__(self, tmp_path, probe_dir):
        self.tmp_path = tmp_path
        self.queue = f"gdpr-fault-{uuid.uuid4().hex[:10]}"
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.probe_dir = probe_dir
        self.processes = []

    def start(self, *, concurrency=1, **extra_env):
        index = len(self.processes)
        ready_file = self.tmp_path / f"ready-{index}"
        log_path = self.tmp_path / f"worker-{index}.log"
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "PORTAL_WORKER_READY_FILE": str(ready_file),
            "GDPR_PROBE_DIR": str(self.probe_dir),
            **{key: str(value) for key, value in extra_env.items()},
        }
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "tests.gdpr.probe_worker_app",
                    "worker", "--loglevel=INFO", f"--concurrency={concurrency}",
                    "--pool=prefork", "--without-heartbeat", "--without-mingle",
                    "--without-gossip", "-Q", self.queue,
                ],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                # One system call between fork and exec, no locks taken: safe with threads.
                start_new_session=True, preexec_fn=die_with_parent,  # noqa: PLW1509
            )  # fmt: skip
        self.processes.append((process, log_path))

        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        while not ready_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"worker did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        return process

    def kill(self):
        for process, _ in self.processes:
            # The whole group even when the main process is gone: pool children it forked
            # may outlive it, and they hold the task and the database connection.
            _signal_group(process.pid, signal.SIGKILL)
            if process.poll() is None:
                process.wait(timeout=10)

    def stop(self):
        for process, _ in self.processes:
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=20)
        self.kill()

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-3000:] for _, path in self.processes)

    def mailbox(self) -> Mailbox:
        return Mailbox(self.mail_dir)


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


@contextlib.contextmanager
def _killed_on_termination(workers: KillableWorker):
    """While the fixture is active, SIGTERM or SIGHUP to the test run kills the workers first.

    Python's default for those signals ends the interpreter without running any teardown.
    Ctrl-C needs nothing here: it raises KeyboardInterrupt, and pytest then tears fixtures down.
    """

    def kill_then_resend(signum, frame):
        workers.kill()
        signal.signal(signum, previous[signum])
        os.kill(os.getpid(), signum)

    handled = (signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.getsignal(signum) for signum in handled}
    for signum in handled:
        signal.signal(signum, kill_then_resend)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@pytest.fixture
def probe_dir(tmp_path):
    folder = tmp_path / "probe"
    folder.mkdir()
    return folder


@pytest.fixture
def killable_worker(tmp_path, probe_dir):
    workers = KillableWorker(tmp_path, probe_dir)
    # Celery's settings object is not monkeypatch-friendly (it cannot delete an attribute it
    # read through), so the session's queue name is put back by hand.
    session_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = workers.queue
    try:
        with _killed_on_termination(workers):
            yield workers
    finally:
        celery_app.conf.task_default_queue = session_queue
        workers.stop()
    # A queue nobody declared has nothing to purge, whatever error the transport gives.
    with celery_app.connection_for_write() as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_purge(workers.queue)


def wait_until(condition, *, timeout=30.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout} s")


def log_in_and_reauthenticate(client, person):
    """Sign in (second factor passed, as the login stage leaves it) and confirm the password
    again, which is the proof the privacy page's step-up asks for."""
    force_login_verified(client, person)
    response = client.post(reverse("account_reauthenticate"), {"password": STRONG_PASSWORD})
    assert response.status_code == 302
