"""Security events and incidents as OCSF 1.5 JSON, each shaped for its own OCSF class.

Every event type the portal records has an entry in ``EVENT_CLASSES``: the OCSF class it
belongs to and the activity within that class. ``tests/siem/test_ocsf.py`` builds one event of
every registered type and validates it with ocsf-emitter (the schema's generated models plus
its invariant checks), so an app that registers a new type without a mapping fails the suite
rather than exporting something a SIEM would reject.

Classes used:

* Authentication (3002): logins, logouts, second-factor challenges, ended sessions.
* Account Change (3001): sign-up, password and second-factor changes, locks, addresses.
* User Access Management (3005): roles bound and object grants given or taken back.
* Entity Management (3004): roles, access reviews, privacy requests, incidents, purges.
* API Activity (6003): API requests and refused accesses to a resource.
* Datastore Activity (6005): reads and changes of protected personal data.
* Detection Finding (2004): suspicious activity, a broken event chain, and incidents.
"""

from dataclasses import dataclass

PRODUCT, VENDOR, VERSION = "Identity Portal", "Portal", "1.0"

AUTHENTICATION, ACCOUNT_CHANGE, ENTITY_MANAGEMENT, USER_ACCESS = 3002, 3001, 3004, 3005
API_ACTIVITY, DATASTORE_ACTIVITY, DETECTION_FINDING = 6003, 6005, 2004


@dataclass(frozen=True)
class Mapping:
    class_uid: int
    activity_id: int
    activity_name: str
    entity: str = ""  # Entity Management: the kind of thing managed


# Activity ids are OCSF's, per class (e.g. Account Change 10 = "MFA Factor Enable").
EVENT_CLASSES = {
    # Authentication
    "auth.login.success": Mapping(AUTHENTICATION, 1, "Logon"),
    "auth.login.failure": Mapping(AUTHENTICATION, 1, "Logon"),
    "auth.logout": Mapping(AUTHENTICATION, 2, "Logoff"),
    "auth.session.revoked": Mapping(AUTHENTICATION, 2, "Logoff"),
    "auth.mfa.challenge.success": Mapping(AUTHENTICATION, 1, "Logon"),
    "auth.mfa.challenge.failure": Mapping(AUTHENTICATION, 1, "Logon"),
    "auth.mfa.backup_code.used": Mapping(AUTHENTICATION, 1, "Logon"),
    "auth.token.reuse": Mapping(AUTHENTICATION, 99, "Refresh token reuse"),
    # Account Change
    "auth.signup": Mapping(ACCOUNT_CHANGE, 1, "Create"),
    "auth.password.changed": Mapping(ACCOUNT_CHANGE, 3, "Password Change"),
    "auth.password.reset": Mapping(ACCOUNT_CHANGE, 4, "Password Reset"),
    "auth.mfa.enabled": Mapping(ACCOUNT_CHANGE, 10, "MFA Factor Enable"),
    "auth.mfa.device.added": Mapping(ACCOUNT_CHANGE, 10, "MFA Factor Enable"),
    "auth.mfa.backup_codes.generated": Mapping(ACCOUNT_CHANGE, 10, "MFA Factor Enable"),
    "auth.mfa.disabled": Mapping(ACCOUNT_CHANGE, 11, "MFA Factor Disable"),
    "auth.mfa.device.removed": Mapping(ACCOUNT_CHANGE, 11, "MFA Factor Disable"),
    "auth.mfa.recovered": Mapping(ACCOUNT_CHANGE, 11, "MFA Factor Disable"),
    "auth.mfa.locked": Mapping(ACCOUNT_CHANGE, 9, "Lock"),
    "rbac.account.disabled_inactive": Mapping(ACCOUNT_CHANGE, 5, "Disable"),
    "auth.email.added": Mapping(ACCOUNT_CHANGE, 99, "Email address added"),
    "auth.email.removed": Mapping(ACCOUNT_CHANGE, 99, "Email address removed"),
    "auth.email.confirmed": Mapping(ACCOUNT_CHANGE, 99, "Email address confirmed"),
    "auth.social.linked": Mapping(ACCOUNT_CHANGE, 99, "Social account linked"),
    "auth.social.unlinked": Mapping(ACCOUNT_CHANGE, 99, "Social account unlinked"),
    "auth.social.link_refused": Mapping(ACCOUNT_CHANGE, 99, "Social account link refused"),
    # User Access Management
    "rbac.binding.created": Mapping(USER_ACCESS, 1, "Assign Privileges"),
    "rbac.binding.revoked": Mapping(USER_ACCESS, 2, "Revoke Privileges"),
    "rbac.binding.expired": Mapping(USER_ACCESS, 2, "Revoke Privileges"),
    "rbac.grant.created": Mapping(USER_ACCESS, 1, "Assign Privileges"),
    "rbac.grant.revoked": Mapping(USER_ACCESS, 2, "Revoke Privileges"),
    # Entity Management
    "rbac.role.created": Mapping(ENTITY_MANAGEMENT, 1, "Create", "Role"),
    "rbac.role.changed": Mapping(ENTITY_MANAGEMENT, 3, "Update", "Role"),
    "rbac.role.deleted": Mapping(ENTITY_MANAGEMENT, 4, "Delete", "Role"),
    "rbac.review.taken": Mapping(ENTITY_MANAGEMENT, 1, "Create", "Access review"),
    "gdpr.request.received": Mapping(ENTITY_MANAGEMENT, 1, "Create", "Privacy request"),
    "gdpr.request.approved": Mapping(ENTITY_MANAGEMENT, 3, "Update", "Privacy request"),
    "gdpr.request.rejected": Mapping(ENTITY_MANAGEMENT, 3, "Update", "Privacy request"),
    "gdpr.request.cancelled": Mapping(ENTITY_MANAGEMENT, 3, "Update", "Privacy request"),
    "gdpr.request.completed": Mapping(ENTITY_MANAGEMENT, 3, "Update", "Privacy request"),
    "gdpr.request.failed": Mapping(ENTITY_MANAGEMENT, 3, "Update", "Privacy request"),
    "gdpr.request.overdue": Mapping(ENTITY_MANAGEMENT, 99, "Overdue", "Privacy request"),
    "gdpr.export.downloaded": Mapping(ENTITY_MANAGEMENT, 2, "Read", "Privacy export"),
    "gdpr.consent.changed": Mapping(ENTITY_MANAGEMENT, 3, "Update", "Consent"),
    "siem.events.purged": Mapping(ENTITY_MANAGEMENT, 4, "Delete", "Security events"),
    "siem.incident.assigned": Mapping(ENTITY_MANAGEMENT, 3, "Update", "Incident"),
    "siem.playbook.action": Mapping(ENTITY_MANAGEMENT, 3, "Update", "Incident"),
    # API Activity (the activity of a request follows its method or action, see _api_activity)
    "api.request": Mapping(API_ACTIVITY, 99, "Other"),
    "auth.unauthorized.access": Mapping(API_ACTIVITY, 99, "Other"),
    # Datastore Activity
    "data.access": Mapping(DATASTORE_ACTIVITY, 1, "Read"),
    "data.modification": Mapping(DATASTORE_ACTIVITY, 2, "Update"),
    "data.decryption.failure": Mapping(DATASTORE_ACTIVITY, 10, "Decrypt"),
    # Detection Finding
    "security.suspicious.activity": Mapping(DETECTION_FINDING, 1, "Create"),
    "siem.chain.broken": Mapping(DETECTION_FINDING, 1, "Create"),
}

SEVERITY = {"info": (1, "Informational"), "low": (2, "Low"), "medium": (3, "Medium"),
            "high": (4, "High"), "critical": (5, "Critical")}  # fmt: skip
OUTCOME = {"success": (1, "Success"), "failure": (2, "Failure"), "unknown": (0, "Unknown")}
MFA_TYPES = {"auth.mfa.challenge.success", "auth.mfa.challenge.failure",
             "auth.mfa.backup_code.used"}  # fmt: skip
# API Activity: 1 Create, 2 Read, 3 Update, 4 Delete.
API_ACTIVITY_BY_VERB = {
    "GET": (2, "Read"), "HEAD": (2, "Read"), "OPTIONS": (2, "Read"), "read": (2, "Read"),
    "POST": (1, "Create"), "create": (1, "Create"),
    "PUT": (3, "Update"), "PATCH": (3, "Update"), "write": (3, "Update"),
    "DELETE": (4, "Delete"), "delete": (4, "Delete"),
}  # fmt: skip
# Detection Finding status: 1 New, 2 In Progress, 4 Resolved, 99 Other.
INCIDENT_STATUS = {
    "open": (1, "New"),
    "acknowledged": (2, "In Progress"),
    "resolved": (4, "Resolved"),
    "false_positive": (99, "False positive"),
}


class UnmappedEventType(LookupError):
    """An event type with no OCSF class: add it to EVENT_CLASSES."""


def model_for(class_uid: int):
    """ocsf-emitter's generated model of the class, which validation checks against."""
    import ocsf_emitter

    spec = ocsf_emitter.defaults.class_spec_by_uid(class_uid)
    return getattr(ocsf_emitter.models, spec.model_name)


def event_to_ocsf(event) -> tuple[dict, int | None]:
    """The event as OCSF JSON and its class uid; an unmapped type becomes a Base Event (0)."""
    mapping = EVENT_CLASSES.get(event.event_type)
    details = event.details if isinstance(event.details, dict) else {}
    payload = _common(event, details)
    if mapping is None:
        payload.update(_identity(0, 0, event.event_type))
        return _drop_empty(payload), None

    activity_id, activity_name = mapping.activity_id, mapping.activity_name
    if mapping.class_uid == API_ACTIVITY:
        verb = details.get("method") or details.get("action")
        activity_id, activity_name = API_ACTIVITY_BY_VERB.get(str(verb), (99, "Other"))
    payload.update(_identity(mapping.class_uid, activity_id, activity_name))
    payload.update(SHAPERS[mapping.class_uid](event, details, mapping))
    return _drop_empty(payload), mapping.class_uid


def incident_to_ocsf(incident) -> dict:
    """An incident as an OCSF Detection Finding: what fired, since when, and how it stands."""
    closed = incident.status not in ("open", "acknowledged")
    activity_id, activity_name = (3, "Close") if closed else (
        (1, "Create") if incident.first_action_at is None else (2, "Update")
    )  # fmt: skip
    severity_id, severity = SEVERITY.get(incident.severity, (0, "Unknown"))
    status_id, status = INCIDENT_STATUS.get(incident.status, (0, "Unknown"))
    detected_ms = _ms(incident.detected_at)
    payload = {
        **_identity(DETECTION_FINDING, activity_id, activity_name),
        "time": _ms(incident.updated_at or incident.detected_at),
        "severity_id": severity_id, "severity": severity,
        "status_id": status_id, "status": status,
        "message": incident.title,
        "metadata": _metadata(uid=f"incident-{incident.pk}", log_name="incidents"),
        "finding_info": {
            "uid": f"incident-{incident.pk}",
            "title": incident.title,
            "analytic": {"name": incident.rule.name, "type_id": 1, "type": "Rule"}
            if incident.rule_id else None,
            "created_time": detected_ms,
            "first_seen_time": detected_ms,
            "related_events_count": incident.events.count(),
        },
        "unmapped": {
            "group": incident.group_key,
            "assignee": f"user:{incident.assignee_id}" if incident.assignee_id else None,
            "first_action_at": _ms(incident.first_action_at) if incident.first_action_at
            else None,
        },
    }  # fmt: skip
    return _drop_empty(payload)


# --- The parts every class shares -----------------------------------------------------------


def _spec(class_uid):
    import ocsf_emitter

    return ocsf_emitter.defaults.class_spec_by_uid(class_uid)


def _identity(class_uid, activity_id, activity_name) -> dict:
    """Class, category and activity, named as the OCSF class registry names them."""
    if class_uid == 0:
        class_name, category_uid, category_name = "Base Event", 0, "Uncategorized"
    else:
        spec = _spec(class_uid)
        class_name, category_uid, category_name = (
            spec.class_name, spec.category_uid, spec.category_name,
        )  # fmt: skip
    return {
        "class_uid": class_uid, "class_name": class_name,
        "category_uid": category_uid, "category_name": category_name,
        "activity_id": activity_id, "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
    }  # fmt: skip


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def _metadata(*, uid, log_name, correlation_uid=None) -> dict:
    import ocsf_emitter

    return {
        "version": ocsf_emitter.OCSF_SCHEMA_VERSION,
        "uid": uid,
        "correlation_uid": correlation_uid,
        "product": {"name": PRODUCT, "vendor_name": VENDOR, "version": VERSION},
        "log_name": log_name,
    }


def _common(event, details) -> dict:
    severity_id, severity = SEVERITY.get(event.severity, (0, "Unknown"))
    status_id, status = OUTCOME.get(event.outcome, (0, "Unknown"))
    return {
        "time": _ms(event.occurred_at),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "message": event.event_type,
        "metadata": _metadata(
            uid=str(event.chain_seq or event.pk),
            log_name=event.service,
            correlation_uid=event.request_id or None,
        ),
        "src_endpoint": {"ip": event.ip} if event.ip else None,
        "unmapped": {"actor": event.actor, "subject": event.subject, "details": details},
    }


def _user(reference: str, name=None) -> dict:
    """An OCSF user from an event's "user:42" (or other) reference; Unknown when empty."""
    if not reference and not name:
        return {"type_id": 0, "type": "Unknown"}
    return {"uid": reference or None, "name": str(name) if name else None}


def _actor(event) -> dict:
    if event.actor:
        return {"user": _user(event.actor)}
    # Nobody signed in: the portal itself (a task, a playbook, an anonymous request).
    return {"app_name": PRODUCT}


def _endpoint(event) -> dict:
    # Required by some classes; an event raised by a task has no client address.
    return {"ip": event.ip} if event.ip else {"svc_name": event.service or "portal"}


def _http(event) -> dict | None:
    return {"user_agent": event.user_agent} if event.user_agent else None


# --- One shaper per class: the fields that class requires or names ---------------------------


def _authentication(event, details, mapping) -> dict:
    return {
        "user": _user(event.subject or event.actor, details.get("identifier")),
        "actor": _actor(event) if event.actor else None,
        "is_mfa": True if event.event_type in MFA_TYPES else None,
        "http_request": _http(event),
    }


def _account_change(event, details, mapping) -> dict:
    return {
        "user": _user(event.subject or event.actor),
        "actor": _actor(event),
        "http_request": _http(event),
    }


def _user_access(event, details, mapping) -> dict:
    if details.get("role"):
        privilege = str(details["role"])
    elif details.get("resource"):
        privilege = f"{details['resource']}:{details.get('action', '')}".rstrip(":")
    else:
        privilege = "unknown"
    return {
        "user": _user(event.subject),
        "actor": _actor(event),
        "privileges": [privilege],
        "resource": {"uid": str(details["object"]), "type": details.get("resource")}
        if details.get("object") else None,
    }  # fmt: skip


def _entity_management(event, details, mapping) -> dict:
    reference = details.get("incident") or details.get("request") or event.subject
    return {
        "entity": {"type": mapping.entity, "uid": str(reference) if reference else None,
                   "name": mapping.entity},
        "actor": _actor(event),
        "http_request": _http(event),
    }  # fmt: skip


def _api_activity(event, details, mapping) -> dict:
    operation = details.get("path") or details.get("resource") or event.event_type
    return {
        "api": {"operation": str(operation)},
        "actor": _actor(event),
        "src_endpoint": _endpoint(event),
        "http_request": {"http_method": details.get("method"), "user_agent": event.user_agent
                         or None},
    }  # fmt: skip


def _datastore_activity(event, details, mapping) -> dict:
    return {"actor": _actor(event), "src_endpoint": _endpoint(event)}


def _detection_finding(event, details, mapping) -> dict:
    return {
        "finding_info": {
            "uid": f"event-{event.chain_seq or event.pk}",
            "title": f"{event.event_type} {details.get('action', '')}".strip(),
            "created_time": _ms(event.occurred_at),
        },
        # A finding's status is its own (1 New), not the outcome of an action.
        "status_id": 1,
        "status": "New",
    }


SHAPERS = {
    AUTHENTICATION: _authentication,
    ACCOUNT_CHANGE: _account_change,
    USER_ACCESS: _user_access,
    ENTITY_MANAGEMENT: _entity_management,
    API_ACTIVITY: _api_activity,
    DATASTORE_ACTIVITY: _datastore_activity,
    DETECTION_FINDING: _detection_finding,
}


def _drop_empty(value):
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v not in (None, "", {})}
    return value
