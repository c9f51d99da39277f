"""The access review: every role binding and object grant, who granted it, when it was last used.

Exported as CSV for spreadsheets and JSON for tools. Cells that a spreadsheet would run as a
formula are defused, because holder emails and reasons are text other people typed.
"""

import csv
import io
import json

from django.contrib.auth import get_user_model
from guardian.models import GroupObjectPermission, UserObjectPermission

from apps.rbac import events
from apps.rbac.models import RoleBinding
from apps.siem.models import SecurityEvent

COLUMNS = [
    "holder",
    "holder_email",
    "holder_last_login",
    "kind",
    "role",
    "scope",
    "object",
    "granted_by",
    "reason",
    "granted_at",
    "expires_at",
    "last_used_at",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _binding_rows():
    bindings = RoleBinding.objects.select_related("role", "user", "group", "granted_by")
    for binding in bindings.order_by("pk"):
        user = binding.user
        yield {
            "holder": f"user:{user.pk}" if user else f"group:{binding.group.name}",
            "holder_email": user.email if user else "",
            "holder_last_login": _iso(user.last_login) if user else "",
            "kind": "role",
            "role": binding.role.name,
            "scope": binding.scope or "all",
            "object": "",
            "granted_by": f"user:{binding.granted_by_id}" if binding.granted_by_id else "",
            "reason": binding.reason,
            "granted_at": _iso(binding.created_at),
            "expires_at": _iso(binding.expires_at),
            "last_used_at": _iso(binding.last_used_at),
        }


def _grant_events() -> dict:
    """Who granted each object grant and why, from the events that recorded it (latest wins)."""
    found = {}
    for event in SecurityEvent.objects.filter(event_type=events.GRANT_CREATED).order_by("pk"):
        d = event.details
        key = (event.subject, d.get("resource"), d.get("action"), d.get("object"))
        found[key] = event
    return found


def _grant_rows():
    from apps.rbac import registry

    by_model = {d.model: d for d in registry.declarations()}
    granted = _grant_events()
    users = {u.pk: u for u in get_user_model().objects.filter(userobjectpermission__isnull=False)}
    tables = [
        (UserObjectPermission.objects.select_related("permission__content_type"), "user"),
        (
            GroupObjectPermission.objects.select_related("permission__content_type", "group"),
            "group",
        ),
    ]
    for rows, kind in tables:
        for row in rows.order_by("pk"):
            declaration = by_model.get(row.permission.content_type.model_class())
            if declaration is None:
                continue
            action = _action_of(row.permission.codename)
            holder = f"user:{row.user_id}" if kind == "user" else f"group:{row.group_id}"
            event = granted.get((holder, declaration.resource, action, row.object_pk))
            user = users.get(row.user_id) if kind == "user" else None
            yield {
                "holder": holder if kind == "user" else f"group:{row.group.name}",
                "holder_email": user.email if user else "",
                "holder_last_login": _iso(user.last_login) if user else "",
                "kind": "object grant",
                "role": "",
                "scope": f"{declaration.resource}:{action}",
                "object": row.object_pk,
                "granted_by": event.actor if event else "",
                "reason": event.details.get("reason", "") if event else "",
                "granted_at": _iso(event.occurred_at) if event else "",
                "expires_at": "",
                "last_used_at": "",
            }


def _action_of(codename: str) -> str:
    verb = codename.split("_", 1)[0]
    return {"view": "read", "change": "write", "add": "create"}.get(verb, verb)


def access_review_entries() -> list[dict]:
    return [*_binding_rows(), *_grant_rows()]


def _defused(value) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def to_csv(entries) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for entry in entries:
        writer.writerow({name: _defused(entry.get(name, "")) for name in COLUMNS})
    return out.getvalue()


def to_json(entries) -> str:
    return json.dumps({"columns": COLUMNS, "entries": entries}, indent=2)
