"""A webhook receiver on loopback for the security alerts the worker sends."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import SIEM_WEBHOOK_PORT


class WebhookReceiver:
    def __init__(self):
        self.deliveries = []
        self.lock = threading.Lock()

    def clear(self):
        with self.lock:
            self.deliveries.clear()

    def wait_for(self, count: int, *, timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.1)
        raise AssertionError(f"{count} webhook deliveries expected within {timeout} s")


@pytest.fixture(scope="session")
def _webhook_server():
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.deliveries.append(
                    {"headers": dict(self.headers), "body": body, "json": json.loads(body)}
                )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", SIEM_WEBHOOK_PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def alert_webhook(_webhook_server):
    _webhook_server.clear()
    return _webhook_server


@pytest.fixture(autouse=True)
def default_rules(request):
    """The shipped rules, which a transactional test's flush removes along with everything."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker(
        "django_db"
    ):
        return
    request.getfixturevalue("django_db_blocker")
    from apps.siem.default_rules import install_default_rules
    from apps.siem.models import DetectionRule

    install_default_rules(DetectionRule)


@pytest.fixture
def admin_client(client, admin_user):
    """A superuser whose session passed the second factor, as the OTP admin site requires."""
    from tests.support import force_login_verified

    force_login_verified(client, admin_user)
    return client
