"""Ship sealed events to the organisation's SIEM: CEF over syslog, and OCSF JSON.

The forwarder follows the chain. ``ForwardingCursor`` holds the last sequence number its
collector accepted; each run sends the sealed events after it, in order, and moves the cursor
after every line that was written to the socket. A collector outage stops the run with the
cursor where it was, and the next run starts from there, so nothing is lost and nothing is sent
twice. Every line carries the event's sequence number, so a collector can also drop a duplicate.
"""

import logging
import socket
from datetime import UTC
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from apps.siem import ocsf
from apps.siem.models import ForwardingCursor, SecurityEvent

logger = logging.getLogger(__name__)

SYSLOG_CURSOR = "syslog-cef"
BATCH = 500
VENDOR, PRODUCT, VERSION = ocsf.VENDOR, ocsf.PRODUCT, ocsf.VERSION
CEF_SEVERITY = {"info": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}
SYSLOG_SEVERITY = {"info": 6, "low": 5, "medium": 4, "high": 3, "critical": 2}
SYSLOG_FACILITY_AUTHPRIV = 10


# --- CEF ------------------------------------------------------------------------------------


def _cef_header(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _cef_value(value) -> str:
    text = str(value).replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r", "\\r").replace("\n", "\\n")


def to_cef(event: SecurityEvent) -> str:
    """One CEF:0 record; standard extension keys where they exist, cs1-cs3 for the rest."""
    extension = {
        "rt": int(event.occurred_at.timestamp() * 1000),
        "outcome": event.outcome,
        "src": event.ip or "",
        "suser": event.actor,
        "duser": event.subject,
        "requestClientApplication": event.user_agent,
        "externalId": event.chain_seq or "",
        "cs1Label": "requestId", "cs1": event.request_id,
        "cs2Label": "service", "cs2": event.service,
        "cs3Label": "chainHash", "cs3": event.chain_hash,
    }  # fmt: skip
    header = "|".join(
        _cef_header(part)
        for part in (
            VENDOR, PRODUCT, VERSION, event.event_type, event.event_type,
            CEF_SEVERITY.get(event.severity, 5),
        )
    )  # fmt: skip
    pairs = " ".join(
        f"{key}={_cef_value(value)}" for key, value in extension.items() if value != ""
    )
    return f"CEF:0|{header}|{pairs}"


def syslog_line(event: SecurityEvent) -> bytes:
    """An RFC 5424 syslog message carrying the CEF record, newline-terminated for TCP."""
    priority = SYSLOG_FACILITY_AUTHPRIV * 8 + SYSLOG_SEVERITY.get(event.severity, 5)
    timestamp = event.occurred_at.astimezone(UTC).isoformat(timespec="milliseconds")
    host = socket.gethostname()[:255] or "-"
    return f"<{priority}>1 {timestamp} {host} portal - - - {to_cef(event)}\n".encode()


class SyslogSender:
    """One connection to the configured collector (tcp:// or udp://host:port).

    Over TCP, a batch counts as delivered only when the collector, having read up to our
    end-of-stream, closes its side: a write into a dead connection often succeeds locally, so a
    successful send alone proves nothing. UDP has no such proof; use it only where the
    collector is on a reliable local link.
    """

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        if parts.scheme not in {"tcp", "udp"} or not parts.hostname or not parts.port:
            raise ValueError("SIEM_SYSLOG_URL must look like tcp://host:port or udp://host:port")
        self.address = (parts.hostname, parts.port)
        self.udp = parts.scheme == "udp"
        if self.udp:
            family = socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET
            self.socket = socket.socket(family, socket.SOCK_DGRAM)
        else:
            self.socket = socket.create_connection(self.address, timeout=timeout)
        self.socket.settimeout(timeout)

    def send(self, line: bytes) -> None:
        if self.udp:
            self.socket.sendto(line, self.address)
        else:
            self.socket.sendall(line)

    def confirm(self) -> None:
        """Close our side and wait for the collector to close its own; raise if it does not."""
        if self.udp:
            return
        self.socket.shutdown(socket.SHUT_WR)
        while self.socket.recv(4096):
            pass

    def close(self) -> None:
        self.socket.close()


def forward_pending(*, limit: int = BATCH * 20) -> int:
    """Send sealed events after the cursor to the syslog collector; return how many went.

    Events go in batches, one connection each; the cursor moves past a batch once the
    collector has confirmed it, and is saved after every batch.
    """
    url = settings.SIEM_SYSLOG_URL
    if not url:
        return 0
    ForwardingCursor.objects.get_or_create(name=SYSLOG_CURSOR)
    sent, failure = 0, None
    with transaction.atomic():
        # One forwarder at a time: a second run waits rather than sending the same events.
        cursor = ForwardingCursor.objects.select_for_update().get(name=SYSLOG_CURSOR)
        try:
            while sent < limit:
                pending = SecurityEvent.objects.filter(chain_seq__gt=cursor.last_seq)
                batch = list(pending.order_by("chain_seq")[: min(BATCH, limit - sent)])
                if not batch:
                    break
                _deliver(url, batch)
                cursor.last_seq = batch[-1].chain_seq
                cursor.last_error = ""
                sent += len(batch)
        except OSError as error:
            # Kept, not rolled back: the batches confirmed before the outage stay sent.
            failure = error
            cursor.last_error = f"{type(error).__name__} after {sent} event(s)"
            logger.warning("syslog forwarding stopped: %s", cursor.last_error)
        cursor.save(update_fields=["last_seq", "last_error", "updated_at"])
    if failure is not None:
        raise failure
    return sent


def _deliver(url: str, batch: list[SecurityEvent]) -> None:
    sender = SyslogSender(url, settings.SIEM_SYSLOG_TIMEOUT_SECONDS)
    try:
        for event in batch:
            sender.send(syslog_line(event))
        sender.confirm()
    finally:
        sender.close()


# --- OCSF -----------------------------------------------------------------------------------


def to_ocsf(event: SecurityEvent) -> tuple[dict, type | None]:
    """The event as OCSF 1.5 JSON and the ocsf-emitter model of its class (apps/siem/ocsf.py).

    A type without a mapping comes out as a Base Event, with no model to check it against.
    """
    payload, class_uid = ocsf.event_to_ocsf(event)
    return payload, (ocsf.model_for(class_uid) if class_uid else None)


def validated_ocsf(event: SecurityEvent) -> dict:
    """OCSF JSON for the event, checked against the OCSF 1.5 schema (ocsf-emitter's generated
    model of its class and its invariant checks); raises when it does not fit, or when the
    event's type has no OCSF class.
    """
    import ocsf_emitter

    payload, model = to_ocsf(event)
    if model is None:
        raise ocsf_emitter.InvalidFindingError(
            f"event type {event.event_type} has no OCSF mapping",
            field_errors=["class_uid: add the type to apps.siem.ocsf.EVENT_CLASSES"],
        )
    return _checked(payload, model, f"event #{event.pk}")


def validated_incident_ocsf(incident) -> dict:
    """The incident as an OCSF Detection Finding, checked like events are."""
    payload = ocsf.incident_to_ocsf(incident)
    return _checked(payload, ocsf.model_for(ocsf.DETECTION_FINDING), f"incident #{incident.pk}")


def _checked(payload: dict, model, what: str) -> dict:
    import ocsf_emitter
    from pydantic import ValidationError

    try:
        ocsf_emitter.validate(model.model_validate(payload))
    except ValidationError as error:
        fields = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise ocsf_emitter.InvalidFindingError(
            f"{what} is not valid OCSF", field_errors=fields
        ) from error
    return payload
