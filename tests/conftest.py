"""Fixtures shared by every test: named people, a real Celery worker, the mail it sends."""

import contextlib
import email
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.cache import cache

from apps.accounts.models import User
from config.celery import app as celery_app
from tests.support import STRONG_PASSWORD

REPO_ROOT = Path(__file__).resolve().parent.parent

# Every test session publishes to a queue of its own, so that a worker started by this session
# never takes a message left behind by another run (or another developer on the same broker).
TEST_QUEUE = f"test-{uuid.uuid4().hex[:12]}"
celery_app.conf.task_default_queue = TEST_QUEUE
WORKER_READY_TIMEOUT = 60


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Where the worker sends security alerts; tests/siem starts a receiver on this port.
SECURITY_TEAM_EMAIL = "security-team@example.com"
SIEM_WEBHOOK_PORT = _free_loopback_port()
SIEM_WEBHOOK_SECRET = "test-webhook-secret"

# Likewise a cache namespace of its own, emptied after every test, so that rate-limit counters
# and cached decisions never leak from one test (or one test run) into another. Set before
# anything touches the cache, which is created lazily on first use.
TEST_CACHE_PREFIX = f"test-{uuid.uuid4().hex[:12]}"
settings.CACHES["default"]["KEY_PREFIX"] = TEST_CACHE_PREFIX


@pytest.fixture(autouse=True)
def _empty_cache_after_each_test():
    yield
    # Detection is asked for from a thread after a short wait (apps/siem/receivers.py): an ask
    # still due from this test must not land in the next test's empty cache.
    from apps.siem.receivers import asker

    asker.wait_until_asked()
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)
        stale = list(client.scan_iter(f"{TEST_CACHE_PREFIX}:*"))
        if stale:
            client.delete(*stale)
    else:
        cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _purge_test_queue_at_exit():
    yield
    # A queue nobody declared has nothing to purge, whatever error the transport gives for it.
    with celery_app.connection_for_write() as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_purge(TEST_QUEUE)


# --- Access control ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _forget_access_decisions():
    """Each test starts with no cached access decisions: ids recur across test databases."""
    from apps.rbac import versions

    versions.forget_everything()


# --- Card numbers never logged ----------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _no_card_number_in_the_logs_of_the_run(tmp_path_factory):
    """Every log line of the run, and every worker's log, must be free of test card numbers.

    The run's records go to a file through a handler with no filter of its own, so only the
    scrubbing installed for the whole process keeps them clean; the check runs at the end.
    """
    from tests.pci.cards import TEST_PANS

    path = tmp_path_factory.mktemp("run-log") / "run.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)
    handler.close()

    logs = [path, *tmp_path_factory.getbasetemp().glob("worker-log*/*.log")]
    text = "\n".join(log.read_text(encoding="utf-8", errors="replace") for log in logs)
    leaked = [f"...{pan[-4:]}" for pan in TEST_PANS if pan in text]
    assert not leaked, f"test card numbers in the logs of this run: {leaked}"


# --- People ------------------------------------------------------------------------------


def make_person(email_address, *, password=STRONG_PASSWORD, verified=True, **flags):
    user = User.objects.create_user(email_address, password, **flags)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    return user


def give_permissions(person, *permissions):
    """Bind ``person`` to a role of their own holding ``permissions`` (``resource:action:all``).

    Written straight to the tables, as a migration or an operator's grant would leave them,
    so that no ``rbac.*`` event joins the events a test counts; the tables' signals still make
    cached decisions stale.
    """
    from apps.rbac.models import Permission, Role, RoleBinding

    role = Role.objects.create(name=f"test-role-{uuid.uuid4().hex[:12]}")
    for text in permissions:
        resource, action, scope = text.split(":", 2)
        permission, _ = Permission.objects.get_or_create(
            resource=resource, action=action, scope=scope
        )
        role.permissions.add(permission)
    RoleBinding.objects.create(role=role, user=person, reason="test fixture")
    return person


@pytest.fixture
def customer(db):
    """Casey, an end user with a verified address and nothing else."""
    return make_person("casey@example.com")


@pytest.fixture
def compliance_officer(db):
    """Olivia, staff who may read security events in the admin."""
    user = make_person("olivia@example.com", is_staff=True)
    return give_permissions(user, "security-events:read:all")


# --- A real Celery worker ----------------------------------------------------------------


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("mail")


_running_workers = []
WORKER_DRAIN_TIMEOUT = 20


def _redis_backlog(client) -> int:
    """Messages of this session's queue still waiting, or taken but not yet acknowledged."""
    waiting = sum(client.llen(key) for key in client.scan_iter(f"{TEST_QUEUE}*"))
    # Kombu keeps each unacknowledged message as [payload, exchange, routing key]; messages of
    # other queues (a fault test's own worker, say) are not this worker's business.
    in_flight = sum(json.loads(entry)[2] == TEST_QUEUE for entry in client.hvals("unacked") or [])
    return waiting + in_flight


def _filesystem_queue_files() -> list[Path]:
    """This session's messages waiting in the filesystem broker's folder (one file each)."""
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    return list(folder.glob(f"*.{TEST_QUEUE}.msg"))


def _wait_for_the_worker_to_drain_the_queue():
    url = celery_app.conf.broker_url or ""
    deadline = time.monotonic() + WORKER_DRAIN_TIMEOUT
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)
        while _redis_backlog(client) and time.monotonic() < deadline:
            time.sleep(0.05)
        client.close()
    elif url.startswith("filesystem"):
        # The transport cannot tell a message being worked on from one that is done, so this
        # waits only for the folder to empty; it is the embedded default, not what CI runs.
        while _filesystem_queue_files() and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Let the worker finish what a test queued before the database is emptied for the next.

    Runs before fixture finalizers: otherwise the worker's transactions (detection, sealing,
    mail) race the test database's TRUNCATE, which PostgreSQL may resolve as a deadlock.
    """
    from apps.siem.receivers import asker

    # A detection run the test's events asked for is published a moment after their commit.
    asker.wait_until_asked()
    if _running_workers:
        _wait_for_the_worker_to_drain_the_queue()
    yield


def database_url_for_subprocesses() -> str:
    """The test database as a URL, for a server or worker process started by a test."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    database_url = (
        f"postgres://{db['USER'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )
    if db.get("PASSWORD"):
        database_url = database_url.replace("@", f":{db['PASSWORD']}@", 1)
    return database_url


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, mail_dir, tmp_path_factory):
    """A separate `celery worker` process bound to the test database and this session's queue.

    Tests that use it must commit their data (transactional tests), since the worker reads the
    database through its own connection.
    """
    database_url = database_url_for_subprocesses()

    # Tests that ran before any worker still queued their tasks (security events, mostly), for
    # rows their database flush has since removed. A worker that starts behind that backlog
    # would spend its first minutes on it, so it starts on an empty queue instead.
    with celery_app.connection_for_write() as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_purge(TEST_QUEUE)

    ready_file = tmp_path_factory.mktemp("worker") / "ready"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_TASK_DEFAULT_QUEUE": TEST_QUEUE,
        "CACHE_KEY_PREFIX": TEST_CACHE_PREFIX,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PORTAL_WORKER_READY_FILE": str(ready_file),
        # Security alerts: to a team address, and to a webhook receiver on loopback.
        "SIEM_ALERT_EMAILS": SECURITY_TEAM_EMAIL,
        "SIEM_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{SIEM_WEBHOOK_PORT}/siem-alerts",
        "SIEM_ALERT_WEBHOOK_SECRET": SIEM_WEBHOOK_SECRET,
    }
    log_path = tmp_path_factory.mktemp("worker-log") / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "tests.worker_app", "worker",
                "--loglevel=INFO", "--concurrency=1", "--pool=prefork", "--without-heartbeat",
                "--without-mingle", "--without-gossip", "-Q", TEST_QUEUE,
            ],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    deadline = time.monotonic() + WORKER_READY_TIMEOUT
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Celery worker did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.2)

    _running_workers.append(process)
    yield WorkerHandle(process, log_path)
    _running_workers.remove(process)

    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class WorkerHandle:
    def __init__(self, process, log_path):
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Mailbox:
    """The messages a worker wrote with Django's file-based email backend."""

    def __init__(self, folder: Path):
        self.folder = folder

    def messages(self):
        found = []
        for path in sorted(self.folder.glob("*.log")):
            # The file backend separates messages in one file with a line of dashes.
            for chunk in path.read_text().split("-" * 79):
                if chunk.strip():
                    found.append(email.message_from_string(chunk.strip()))
        return found

    def wait_for(self, recipient: str, *, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages():
                if recipient in message["To"]:
                    return message
            time.sleep(0.2)
        raise AssertionError(f"no mail to {recipient} within {timeout} s")


@pytest.fixture
def mailbox(mail_dir):
    for old in mail_dir.glob("*"):
        old.unlink()
    return Mailbox(mail_dir)


def message_text(message) -> str:
    if message.is_multipart():
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode()
    return message.get_payload(decode=True).decode()


# --- Second factor -----------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin_client, signed in with the second factor the admin requires."""
    from tests.support import force_login_verified

    force_login_verified(client, admin_user)
    return client
