"""Events reach a syslog collector as CEF, and as OCSF JSON that the OCSF schema accepts."""

import socket
import threading

import pytest
from ocsf_emitter import InvalidFindingError

from apps.siem import chain, forwarding
from apps.siem.events import emit
from apps.siem.models import ForwardingCursor
from tests.siem.helpers import emit_many

pytestmark = pytest.mark.django_db


class SyslogCollector:
    """A TCP syslog collector on loopback that reads each connection to its end."""

    def __init__(self, port=0):
        self.lines: list[str] = []
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return  # stopped
            with connection:
                data = b""
                while chunk := connection.recv(65536):
                    data += chunk
                self.lines.extend(line for line in data.decode().split("\n") if line)

    def stop(self):
        if self.server.fileno() == -1:
            return  # stopped already
        # shutdown() wakes the thread blocked in accept(); close() alone would not on Linux.
        self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture
def collector(settings):
    running = SyslogCollector()
    settings.SIEM_SYSLOG_URL = f"tcp://127.0.0.1:{running.port}"
    settings.SIEM_SYSLOG_TIMEOUT_SECONDS = 2
    yield running
    running.stop()


def sequence_numbers(lines):
    return [int(line.split("externalId=")[1].split(" ")[0]) for line in lines]


def test_the_collector_receives_each_sealed_event_as_a_cef_line(collector):
    emit("auth.login.failure", ip="198.51.100.7", details={"identifier": "casey@example.com"})
    chain.seal_pending()

    assert forwarding.forward_pending() == 1

    (line,) = collector.lines
    assert line.startswith("<85>1 ")  # authpriv, notice: a low-severity event
    cef = line[line.index("CEF:0|") :]
    assert cef.startswith("CEF:0|Portal|Identity Portal|1.0|auth.login.failure|")
    assert "src=198.51.100.7" in cef
    assert "outcome=failure" in cef


def test_cef_escapes_what_would_break_its_fields(collector):
    emit("auth.login.failure", user_agent="evil=1 cs1=forged\nnext line")
    chain.seal_pending()

    forwarding.forward_pending()

    (line,) = collector.lines
    assert "requestClientApplication=evil\\=1 cs1\\=forged\\nnext line" in line


def test_a_collector_outage_loses_nothing_and_recovery_duplicates_nothing(collector, settings):
    emit_many(3)
    chain.seal_pending()
    forwarding.forward_pending()
    port = collector.port
    collector.stop()

    emit_many(4)
    chain.seal_pending()
    with pytest.raises(ConnectionRefusedError):
        forwarding.forward_pending()
    assert ForwardingCursor.objects.get().last_seq == 3
    assert "ConnectionRefusedError" in ForwardingCursor.objects.get().last_error

    restarted = SyslogCollector(port)
    try:
        emit_many(2)
        chain.seal_pending()
        assert forwarding.forward_pending() == 6
        assert forwarding.forward_pending() == 0
    finally:
        restarted.stop()

    received = sequence_numbers(collector.lines) + sequence_numbers(restarted.lines)
    assert received == list(range(1, 10))


def test_unsealed_events_wait_for_the_seal(collector):
    emit("auth.login.failure")

    assert forwarding.forward_pending() == 0
    assert collector.lines == []


def test_a_login_is_exported_as_an_ocsf_authentication_event_the_schema_accepts(customer):
    event = emit("auth.login.success", actor=customer, ip="198.51.100.7", user_agent="Firefox")
    chain.seal_pending()
    event.refresh_from_db()

    payload = forwarding.validated_ocsf(event)

    assert payload["class_uid"] == 3002
    assert payload["type_uid"] == 300201
    assert payload["user"]["uid"] == f"user:{customer.pk}"
    assert payload["src_endpoint"]["ip"] == "198.51.100.7"
    assert payload["metadata"]["version"] == "1.5.0"


def test_an_ocsf_login_missing_what_the_schema_requires_is_refused(customer, monkeypatch):
    event = emit("auth.login.failure", ip="198.51.100.7")
    original = forwarding.to_ocsf

    def without_user(evt):
        payload, model = original(evt)
        payload.pop("user")
        return payload, model

    monkeypatch.setattr(forwarding, "to_ocsf", without_user)
    with pytest.raises(InvalidFindingError):
        forwarding.validated_ocsf(event)
