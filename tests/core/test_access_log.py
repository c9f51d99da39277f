"""One-time keys in request URLs never reach the web server's access log.

Confirmation and reset links carry their secret in the path, OAuth callbacks in the query
string; gunicorn writes every request line to its access log, and the scrubbing that the
portal installs for the whole process must catch them there too.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import REPO_ROOT, database_url_for_subprocesses

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = ("confirmkey7Q2x", "resetkey9Z4m", "oauthcode3K8p", "oauthstate5W1n")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> None:
    # Any status will do: the request line is logged whatever the answer.
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(url, timeout=60).close()  # noqa: S310 - our own loopback server


@pytest.fixture
def gunicorn_access_log(tmp_path):
    port = _free_port()
    log_path = tmp_path / "access.log"
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocesses()}
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers=1",
            f"--bind=127.0.0.1:{port}", f"--access-logfile={log_path}", "--log-level=warning",
        ],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", log_path
    server.terminate()
    server.wait(timeout=20)


def test_one_time_keys_and_oauth_codes_are_not_in_the_access_log(gunicorn_access_log):
    base, log_path = gunicorn_access_log

    _get(f"{base}/accounts/confirm-email/{SECRETS[0]}/")
    _get(f"{base}/accounts/password/reset/key/1-{SECRETS[1]}/")
    _get(f"{base}/accounts/google/login/callback/?code={SECRETS[2]}&state={SECRETS[3]}&x=1")
    _get(f"{base}/healthz")

    deadline = time.monotonic() + 10
    while "/healthz" not in log_path.read_text():
        assert time.monotonic() < deadline, "the access log never got the last request"
        time.sleep(0.1)
    log = log_path.read_text()

    assert "/accounts/confirm-email/[redacted]/" in log
    assert "/accounts/password/reset/key/[redacted]/" in log
    assert "?code=[redacted]&state=[redacted]&x=1" in log
    assert not [secret for secret in SECRETS if secret in log]
