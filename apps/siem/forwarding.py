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

from apps.siem.models import ForwardingCursor, SecurityEvent

logger = logging.getLogger(__name__)

SYSLOG_CURSOR = "syslog-cef"
BATCH = 500
VENDOR, PRODUCT, VERSION = "Portal", "Identity Portal", "1.0"
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

OCSF_SEVERITY_ID = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
OCSF_STATUS_ID = {"success": 1, "failure": 2, "unknown": 0}
# Authentication (3002) activities: 1 logon, 2 logoff.
AUTHENTICATION_ACTIVITY = {
    "auth.login.success": 1, "auth.login.failure": 1, "auth.logout": 2,
}  # fmt: skip


def to_ocsf(event: SecurityEvent) -> tuple[dict, type | None]:
    """The event as OCSF 1.5 JSON: Authentication (3002) for logins, Base Event otherwise."""
    import ocsf_emitter

    common = {
        "time": int(event.occurred_at.timestamp() * 1000),
        "severity_id": OCSF_SEVERITY_ID.get(event.severity, 0),
        "severity": event.severity.capitalize(),
        "status_id": OCSF_STATUS_ID.get(event.outcome, 0),
        "status": event.outcome.capitalize(),
        "message": event.event_type,
        "metadata": {
            "version": ocsf_emitter.OCSF_SCHEMA_VERSION,
            "uid": str(event.chain_seq or event.pk),
            "correlation_uid": event.request_id or None,
            "product": {"name": PRODUCT, "vendor_name": VENDOR, "version": VERSION},
            "log_name": event.service,
        },
        "unmapped": {"actor": event.actor, "subject": event.subject, "details": event.details},
    }
    if event.ip:
        common["src_endpoint"] = {"ip": event.ip}
    if event.event_type in AUTHENTICATION_ACTIVITY:
        activity = AUTHENTICATION_ACTIVITY[event.event_type]
        payload = {
            **common,
            "class_uid": 3002, "class_name": "Authentication",
            "category_uid": 3, "category_name": "Identity & Access Management",
            "activity_id": activity, "activity_name": "Logon" if activity == 1 else "Logoff",
            "type_uid": 300200 + activity,
            "user": {"uid": event.subject or event.actor or None,
                     "name": str((event.details or {}).get("identifier") or "") or None},
            "http_request": {"user_agent": event.user_agent} if event.user_agent else None,
        }  # fmt: skip
        model = ocsf_emitter.models.Authentication
    else:
        # OCSF's Base Event has no typed model in the library; only logins are validated.
        payload = {
            **common,
            "class_uid": 0, "class_name": "Base Event", "category_uid": 0,
            "category_name": "Uncategorized", "activity_id": 0, "activity_name": event.event_type,
            "type_uid": 0,
        }  # fmt: skip
        model = None
    return _drop_empty(payload), model


def _drop_empty(value):
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v not in (None, "", {})}
    return value


def validated_ocsf(event: SecurityEvent) -> dict:
    """OCSF JSON for the event; Authentication events are checked against the OCSF 1.5 schema
    (ocsf-emitter's generated models and its invariant checks) and raise when they do not fit.
    """
    import ocsf_emitter
    from pydantic import ValidationError

    payload, model = to_ocsf(event)
    if model is None:
        return payload
    try:
        ocsf_emitter.validate(model.model_validate(payload))
    except ValidationError as error:
        fields = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise ocsf_emitter.InvalidFindingError(
            f"event #{event.pk} is not valid OCSF", field_errors=fields
        ) from error
    return payload
