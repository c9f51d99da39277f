"""The actions a firing rule takes, each claimed per incident and target so it runs once.

A run looks at the incident's events to find its targets (the address of the group, the
accounts the events were aimed at), then for each action and target claims a PlaybookAction
row and performs the action in the same transaction. A second delivery of the task, or a second
worker racing the first, finds the row done and does nothing.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.request
from collections import Counter
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts import security_actions
from apps.core.mail import queue_email
from apps.siem.incidents import record_action
from apps.siem.models import (
    AccountLock,
    AddressRestriction,
    DetectionRule,
    Incident,
    PlaybookAction,
)

logger = logging.getLogger(__name__)

Action = DetectionRule.Action
ACTOR = "system:playbook"
DEFAULT_OPTIONS = {
    "block_minutes": 60,
    "rate_limit_minutes": 15,
    "requests_per_minute": 60,
    "lock_minutes": 30,
    # A forced reset switches the owner's password off, so a single mistyped guess against an
    # account must not earn it one (anyone who knows six addresses could otherwise disable six
    # passwords): only accounts tried this many times, or signed in to from the attacking
    # address, are treated as under attack.
    "reset_after_failures": 3,
}
ADDRESS_ACTIONS = {Action.BLOCK_ADDRESS, Action.RATE_LIMIT_ADDRESS}
WEBHOOK_TIMEOUT_SECONDS = 5
SIGNATURE_HEADER = "X-Portal-Signature"


class PlaybookIncomplete(Exception):
    """Some actions failed; the task is retried and runs only those again."""


def run(incident_id: int) -> list[str]:
    """Carry out the incident's playbook; return the actions newly done.

    One failing action (a webhook that does not answer) does not hold back the others; the run
    ends with PlaybookIncomplete so that the task retries, and the retry redoes only what is
    not done yet.
    """
    started = timezone.now()
    incident = Incident.objects.select_related("rule").filter(pk=incident_id).first()
    if incident is None or incident.rule is None:
        return []
    options = {**DEFAULT_OPTIONS, **(incident.rule.playbook_options or {})}

    done, failed = [], []
    for action in incident.rule.playbook:
        for target in _targets(incident, action, options):
            try:
                if _perform_once(incident, action, target, options):
                    done.append(f"{action} {target}".strip())
            except (OSError, ValueError) as error:
                logger.warning(
                    "incident %s: %s %s failed: %s", incident.pk, action, target,
                    type(error).__name__,
                )  # fmt: skip
                failed.append(action)
    if failed:
        raise PlaybookIncomplete(f"incident {incident.pk}: {', '.join(failed)} failed")
    # Finished; a run asked for after this one started (new events) stays asked for.
    Incident.objects.filter(pk=incident.pk, playbook_requested_at__lte=started).update(
        playbook_requested_at=None
    )
    return done


def _targets(incident: Incident, action: str, options: dict) -> list[str]:
    events = incident.events.all()
    if action in ADDRESS_ACTIONS:
        return sorted({ip for ip in events.values_list("ip", flat=True) if ip})
    if action == Action.ALERT_SECURITY_TEAM:
        return [""]
    tries = _tries_per_account(events)
    if action == Action.FORCE_PASSWORD_RESET:
        at_risk = {pk for pk, count in tries.items() if count >= options["reset_after_failures"]}
        return [f"user:{pk}" for pk in sorted(at_risk | _signed_in_from_there(incident, events))]
    return [f"user:{pk}" for pk in sorted(tries)]


def _tries_per_account(events) -> Counter:
    """How many of the events were aimed at each account: by subject, or the identifier typed."""
    tries, identifiers = Counter(), Counter()
    for subject, details in events.values_list("subject", "details"):
        if subject.startswith("user:") and subject[5:].isdigit():
            tries[int(subject[5:])] += 1
        elif isinstance(details, dict) and details.get("identifier"):
            identifiers[str(details["identifier"]).strip().lower()] += 1
    if identifiers:
        owners = dict(
            get_user_model().objects.filter(email__in=identifiers).values_list("email", "pk")
        )
        # Any address of an account logs it in and drains its failure counter (see the account
        # adapter), so an attack typed as a second address is aimed at the same account.
        owners |= dict(
            EmailAddress.objects.filter(email__in=identifiers).values_list("email", "user_id")
        )
        for identifier, count in identifiers.items():
            if identifier in owners:
                tries[owners[identifier]] += count
    return tries


def _signed_in_from_there(incident: Incident, events) -> set[int]:
    """Accounts signed in to from the incident's addresses since it began: perhaps guessed."""
    from apps.siem.models import SecurityEvent

    addresses = {ip for ip in events.values_list("ip", flat=True) if ip}
    began = events.order_by("occurred_at").values_list("occurred_at", flat=True).first()
    if not addresses or began is None:
        return set()
    actors = SecurityEvent.objects.filter(
        event_type="auth.login.success", ip__in=addresses, occurred_at__gte=began
    ).values_list("actor", flat=True)
    return {
        int(actor[5:]) for actor in actors if actor.startswith("user:") and actor[5:].isdigit()
    }


def _perform_once(incident: Incident, action: str, target: str, options: dict) -> bool:
    try:
        with transaction.atomic():
            claim, _ = PlaybookAction.objects.get_or_create(
                incident=incident, action=action, target=target
            )
            claim = PlaybookAction.objects.select_for_update().get(pk=claim.pk)
            if claim.state == PlaybookAction.State.DONE:
                return False
            result = PERFORMERS[action](incident, target, options, claim)
            claim.state, claim.done_at, claim.result = (
                PlaybookAction.State.DONE, timezone.now(), result[:255],
            )  # fmt: skip
            claim.save(update_fields=["state", "done_at", "result"])
            record_action(incident, f"{action} {target}: {result}".replace("  ", " "))
    except IntegrityError:
        return False  # another delivery holds this claim
    logger.info("incident %s: %s %s done", incident.pk, action, target)
    return True


def _user(target: str):
    return get_user_model().objects.filter(pk=int(target.removeprefix("user:"))).first()


def block_address(incident, ip, options, claim) -> str:
    until = timezone.now() + timedelta(minutes=options["block_minutes"])
    AddressRestriction.objects.create(
        ip=ip, kind=AddressRestriction.Kind.BLOCK, until=until, incident=incident,
        reason=incident.title, created_by=ACTOR,
    )  # fmt: skip
    return f"blocked until {until:%Y-%m-%d %H:%M} UTC"


def rate_limit_address(incident, ip, options, claim) -> str:
    until = timezone.now() + timedelta(minutes=options["rate_limit_minutes"])
    AddressRestriction.objects.create(
        ip=ip, kind=AddressRestriction.Kind.RATE_LIMIT, until=until, incident=incident,
        requests_per_minute=options["requests_per_minute"], reason=incident.title,
        created_by=ACTOR,
    )  # fmt: skip
    return f"limited to {options['requests_per_minute']}/min until {until:%H:%M} UTC"


def lock_account(incident, target, options, claim) -> str:
    user = _user(target)
    if user is None:
        return "account gone"
    until = timezone.now() + timedelta(minutes=options["lock_minutes"])
    if not security_actions.lock_account(user, actor=ACTOR):
        return "already inactive; left as it was"
    AccountLock.objects.create(user=user, until=until, incident=incident)
    security_actions.notify_account_owner(
        user,
        subject="[Portal] Your account is locked for a while",
        body=(
            f"After many failed sign-in attempts your account is locked until "
            f"{until:%Y-%m-%d %H:%M} UTC. If they were not yours, consider changing your password "
            "once the lock ends."
        ),
    )
    return f"locked until {until:%Y-%m-%d %H:%M} UTC, owner notified"


def end_sessions(incident, target, options, claim) -> str:
    user = _user(target)
    if user is None:
        return "account gone"
    return f"{security_actions.end_sessions_and_tokens(user, actor=ACTOR)} session(s) ended"


def force_password_reset(incident, target, options, claim) -> str:
    user = _user(target)
    if user is None:
        return "account gone"
    forced = security_actions.force_password_reset(user, actor=ACTOR)
    return "password disabled, reset requested" if forced else "password already disabled"


def require_second_factor(incident, target, options, claim) -> str:
    user = _user(target)
    if user is None:
        return "account gone"
    return security_actions.require_fresh_second_factor(user, actor=ACTOR)


def notify_account_owner(incident, target, options, claim) -> str:
    user = _user(target)
    if user is None:
        return "account gone"
    security_actions.notify_account_owner(
        user,
        subject="[Portal] Unusual activity on your account",
        body="We noticed unusual activity on your account and our security team is looking.",
    )
    return "owner notified"


def alert_security_team(incident, target, options, claim) -> str:
    sent = []
    if settings.SIEM_ALERT_EMAILS:
        queue_email(
            recipients=list(settings.SIEM_ALERT_EMAILS),
            subject=f"[Portal security] {incident.severity}: {incident.title}"[:255],
            body_text=(
                f"Incident #{incident.pk} was opened at {incident.detected_at:%Y-%m-%d %H:%M:%S} "
                f"UTC by rule {incident.rule.name}.\nGroup: {incident.group_key}\n"
                f"Events so far: {incident.events.count()}\n"
            ),
        )
        sent.append("email")
    if settings.SIEM_ALERT_WEBHOOK_URL:
        post_webhook(incident, delivery_id=claim.pk)
        sent.append("webhook")
    return "alerted by " + (" and ".join(sent) if sent else "nothing: no alert channel set")


def sign_webhook(body: bytes, timestamp: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def post_webhook(incident: Incident, *, delivery_id: int) -> None:
    url = settings.SIEM_ALERT_WEBHOOK_URL
    if not url.startswith(("https://", "http://")):
        raise ValueError("SIEM_ALERT_WEBHOOK_URL must be an http(s) URL")
    body = json.dumps(
        {
            "incident": incident.pk,
            "title": incident.title,
            "severity": incident.severity,
            "rule": incident.rule.name if incident.rule else None,
            "group": incident.group_key,
            "detected_at": incident.detected_at.isoformat(),
        }
    ).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Portal-Timestamp": timestamp,
            "X-Portal-Delivery": str(delivery_id),
            SIGNATURE_HEADER: sign_webhook(body, timestamp, settings.SIEM_ALERT_WEBHOOK_SECRET),
        },
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as reply:  # noqa: S310
        reply.read()


PERFORMERS = {
    Action.BLOCK_ADDRESS: block_address,
    Action.RATE_LIMIT_ADDRESS: rate_limit_address,
    Action.LOCK_ACCOUNT: lock_account,
    Action.END_SESSIONS: end_sessions,
    Action.FORCE_PASSWORD_RESET: force_password_reset,
    Action.REQUIRE_SECOND_FACTOR: require_second_factor,
    Action.NOTIFY_ACCOUNT_OWNER: notify_account_owner,
    Action.ALERT_SECURITY_TEAM: alert_security_team,
}


def release_expired() -> int:
    """Unlock accounts whose playbook lock has run out."""
    released = 0
    for lock in AccountLock.objects.filter(released_at__isnull=True, until__lte=timezone.now()):
        with transaction.atomic():
            security_actions.unlock_account(lock.user, actor=ACTOR)
            lock.released_at = timezone.now()
            lock.save(update_fields=["released_at"])
            released += 1
    return released
