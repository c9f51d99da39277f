"""Every write about second factors: enrolment, verification, codes, removal, recovery.

Each function takes the acting user as a keyword argument and records its security event in
the caller's transaction.
"""

import dataclasses
import functools
import logging
import re
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_otp import device_classes, devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.mfa_policy import user_must_use_mfa
from apps.accounts.models import (
    BackupCode,
    BackupCodeDevice,
    SecondFactorFailure,
    SecondFactorLock,
)
from apps.core.mail import queue_email
from apps.siem.events import emit

logger = logging.getLogger(__name__)

BACKUP_CODE_COUNT = 10
# Crockford's base32 without look-alikes; twelve characters carry 60 bits.
BACKUP_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
BACKUP_CODE_LENGTH = 12
TOTP_CODE = re.compile(r"^[0-9]{6}$")
BACKUP_CODE = re.compile(rf"^[{BACKUP_CODE_ALPHABET}]{{{BACKUP_CODE_LENGTH}}}$")

# Slow guessing: this many wrong codes within the window lock the second factor.
SLOW_GUESSING_LIMIT = 10
SLOW_GUESSING_WINDOW = timedelta(hours=1)
LOCK_DURATION = timedelta(hours=24)
HOUR = timedelta(hours=1)


class Refusal:
    """Why a code was not accepted, in words safe to show the person who typed it."""

    WRONG = "That code is not valid, or it was already used."
    THROTTLED = "Too many wrong codes. Wait a moment and try again."
    LOCKED = (
        "Your second factor is locked after too many wrong codes. Contact support to have "
        "your identity checked."
    )
    NO_DEVICE = "You have no second factor set up."


@dataclasses.dataclass
class Verification:
    device: object | None = None
    refusal: str | None = None
    backup_codes_left: int | None = None

    @property
    def accepted(self) -> bool:
        return self.device is not None


def confirmed_devices(user):
    return list(devices_for_user(user, confirmed=True))


def has_second_factor(user) -> bool:
    """Whether the user has any confirmed device, of whatever kind, in one query.

    Asked at every login (the second-factor stage) and on pages. The query is built once per
    process (see ``_any_device_query``): building it with the ORM each time took about a
    millisecond, four times as long as the database takes to answer it.
    """
    if user is None or user.is_anonymous:
        return False
    connection = transaction.get_connection()
    query = _any_device_query(connection.vendor)
    if query is None:
        return False
    sql, params = query
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk if param is _USER_ID else param for param in params])
        return bool(cursor.fetchone()[0])


# Stands for the user's id while the query is built: a value no row can have, so that it is
# found among the compiled parameters by value (fields copy the ids they are given).
_STAND_IN_ID = -(2**62) + 7919
_USER_ID = object()


@functools.cache
def _any_device_query(vendor: str):
    """``SELECT EXISTS (<devices of kind 1>) OR EXISTS (<kind 2>) ...``, and where the user goes.

    Each kind's devices are asked of its own manager (``devices_for_user``), so what a plugin
    counts as a confirmed device is kept. The user's id is a marked placeholder among the
    compiled parameters, replaced per call. The ``vendor`` argument keys the cache: the SQL is
    written for the database it was compiled for.
    """
    stand_in = get_user_model()(pk=_STAND_IN_ID)
    each_kind = [
        model.objects.devices_for_user(stand_in, confirmed=True).values("pk")
        for model in device_classes()
    ]
    if not each_kind:
        return None
    parts, params = [], []
    for devices in each_kind:
        sql, kind_params = devices.query.sql_with_params()
        parts.append(f"EXISTS ({sql})")
        params.extend(kind_params)
    if params.count(_STAND_IN_ID) != len(each_kind):
        raise ImproperlyConfigured("a device manager does not filter by the user exactly once")
    return "SELECT " + " OR ".join(parts), [
        _USER_ID if param == _STAND_IN_ID else param for param in params
    ]


def normalize_code(code: str) -> str:
    """Let people type codes as they read them: spaces, dashes and capitals are ignored."""
    return re.sub(r"[\s-]", "", code or "").lower()


# --- Verification --------------------------------------------------------------------------


def verify_second_factor(*, user, code: str, purpose: str = "login") -> Verification:
    """Check a TOTP or backup code for a user; record success or failure.

    1. A locked second factor refuses everything until the lock ends.
    2. The code's shape picks the one device it can belong to, so a TOTP code never counts as
       a failure against the backup codes, or the other way round.
    3. The device row is locked for the check: two requests with one code are serialised and
       the second sees the step or code the first one spent.
    4. A failure is counted per device (django-otp's throttle) and per user over a rolling
       hour; the hourly count is what catches slow guessing under the per-device throttle.
    """
    code = normalize_code(code)
    if _active_lock(user) is not None:
        _record_failure(user, purpose=purpose, reason="locked", count=False)
        return Verification(refusal=Refusal.LOCKED)

    device = _device_for_code(user, code)
    if device is None:
        if not has_second_factor(user):
            return Verification(refusal=Refusal.NO_DEVICE)
        # Recorded but not counted, like a throttled attempt: no device could accept this, so
        # it guesses nothing, and no throttle stands in front of it; counting it would let
        # anyone with the password lock the owner out for a day with ten quick requests.
        _record_failure(user, purpose=purpose, reason="wrong-shape", count=False)
        return Verification(refusal=Refusal.WRONG)

    allowed, _ = device.verify_is_allowed()
    if not allowed:
        # No code was checked, so this is no guess: counting it would let anyone with the
        # password lock the owner's second factor for a day with a burst of requests.
        _record_failure(user, purpose=purpose, reason="throttled", device=device, count=False)
        return Verification(refusal=Refusal.THROTTLED)
    if not device.verify_token(code):
        _record_failure(user, purpose=purpose, reason="wrong", device=device)
        return Verification(refusal=Refusal.WRONG)

    emit(
        "auth.mfa.challenge.success",
        actor=user,
        details={"device": _kind(device), "purpose": purpose},
    )
    result = Verification(device=device)
    if isinstance(device, BackupCodeDevice):
        result.backup_codes_left = _after_backup_code_use(user, device)
    return result


def record_passkey_success(*, user, device) -> None:
    """A passkey was verified by django-otp-webauthn (signature and counter checked there)."""
    emit(
        "auth.mfa.challenge.success",
        actor=user,
        details={"device": _kind(device), "purpose": "login"},
    )


def _device_for_code(user, code):
    if TOTP_CODE.match(code):
        model = TOTPDevice
    elif BACKUP_CODE.match(code):
        model = BackupCodeDevice
    else:
        return None
    return model.objects.select_for_update().filter(user=user, confirmed=True).first()


def _after_backup_code_use(user, device) -> int:
    left = device.remaining()
    emit("auth.mfa.backup_code.used", actor=user, details={"remaining": left})
    _tell_user(
        user,
        "mfa/email/backup_code_used",
        {"remaining": left},
    )
    return left


def _record_failure(user, *, purpose, reason, device=None, count=True):
    emit(
        "auth.mfa.challenge.failure",
        actor=user,
        details={"device": _kind(device), "purpose": purpose, "reason": reason},
    )
    if not count:
        return
    now = timezone.now()
    SecondFactorFailure.objects.create(user=user, occurred_at=now)
    since = now - SLOW_GUESSING_WINDOW
    recent = SecondFactorFailure.objects.filter(user=user, occurred_at__gte=since).count()
    if recent >= SLOW_GUESSING_LIMIT:
        _lock_second_factor(user, failures=recent)


def _lock_second_factor(user, *, failures):
    now = timezone.now()
    SecondFactorLock.objects.update_or_create(
        user=user, defaults={"locked_at": now, "locked_until": now + LOCK_DURATION}
    )
    logger.warning("second factor of user %s locked after %s failures", user.pk, failures)
    emit("auth.mfa.locked", actor=user, details={"failures_last_hour": failures})
    # Whoever guessed had the password: the owner must hear of it now, not at the next login.
    _tell_user(user, "mfa/email/locked", {"failures": failures, "hours": LOCK_DURATION // HOUR})


def _active_lock(user):
    return SecondFactorLock.objects.filter(user=user, locked_until__gt=timezone.now()).first()


def is_second_factor_locked(user) -> bool:
    return _active_lock(user) is not None


def _kind(device) -> str:
    if device is None:
        return ""
    if isinstance(device, TOTPDevice):
        return "totp"
    if isinstance(device, BackupCodeDevice):
        return "backup_codes"
    if type(device).__name__ == "WebAuthnCredential":
        return "passkey"
    return type(device).__name__.lower()


# --- Enrolment -----------------------------------------------------------------------------


def start_totp_enrolment(*, user) -> TOTPDevice:
    """A fresh unconfirmed authenticator with a new secret; it counts for nothing yet."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def pending_totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def confirm_totp_enrolment(*, user, device: TOTPDevice, code: str) -> list[str] | None:
    """Activate the authenticator once the user types a valid code from it.

    Returns the new backup codes when this is the user's first second factor (they are shown
    once and never again), an empty list when the user already had backup codes, or None when
    the code was wrong.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if device.confirmed or not TOTP_CODE.match(normalize_code(code)):
        return None
    if not device.verify_token(normalize_code(code)):
        return None

    first_factor = not has_second_factor(user)
    # One authenticator per user: a new one replaces the old.
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    emit("auth.mfa.device.added", actor=user, details={"device": "totp"})
    if first_factor:
        emit("auth.mfa.enabled", actor=user, details={"device": "totp"})

    if BackupCodeDevice.objects.filter(user=user, confirmed=True).exists():
        return []
    return regenerate_backup_codes(user=user)


def regenerate_backup_codes(*, user) -> list[str]:
    """Replace every backup code with ten new ones, drawn from the system's secure source."""
    BackupCodeDevice.objects.filter(user=user).delete()
    device = BackupCodeDevice.objects.create(
        user=user, name="Backup codes", confirmed=True, salt=secrets.token_hex(16)
    )
    codes = [
        "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
        for _ in range(BACKUP_CODE_COUNT)
    ]
    BackupCode.objects.bulk_create(
        [BackupCode(device=device, digest=device.digest(code)) for code in codes]
    )
    emit("auth.mfa.backup_codes.generated", actor=user, details={"count": len(codes)})
    return codes


def format_backup_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# --- Removal and recovery ------------------------------------------------------------------


class SecondFactorRequired(Exception):
    """The user's role requires a second factor, so the last one cannot be removed."""


def remove_device(*, user, device) -> None:
    """Remove one of the user's own devices; the last one only if MFA is optional for them."""
    remaining = [d for d in confirmed_devices(user) if d.persistent_id != device.persistent_id]
    only_backup_codes_left = all(isinstance(d, BackupCodeDevice) for d in remaining)
    if only_backup_codes_left and user_must_use_mfa(user):
        raise SecondFactorRequired

    kind = _kind(device)
    device.delete()
    emit("auth.mfa.device.removed", actor=user, details={"device": kind})
    if only_backup_codes_left:
        # Backup codes alone are not a second factor worth keeping: they back up a device.
        BackupCodeDevice.objects.filter(user=user).delete()
        emit("auth.mfa.disabled", actor=user)
    _tell_user(user, "mfa/email/device_removed", {"device": kind})


def disable_mfa(*, user) -> None:
    """Remove every second factor of the user's own account."""
    if user_must_use_mfa(user):
        raise SecondFactorRequired
    with transaction.atomic():
        for device in confirmed_devices(user):
            device.delete()
        TOTPDevice.objects.filter(user=user).delete()
        emit("auth.mfa.disabled", actor=user)
    _tell_user(user, "mfa/email/device_removed", {"device": "all"})


def recover_second_factor(*, user, acting_user, identity_check: str) -> None:
    """Staff remove every factor of a user who lost them all, after checking who they are.

    The user signs in with their password next and, if their role requires it, is made to
    enrol again before anything else. The identity check staff performed is kept in the event.
    """
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=None):
            device.delete()
        SecondFactorLock.objects.filter(user=user).delete()
        SecondFactorFailure.objects.filter(user=user).delete()
        emit(
            "auth.mfa.recovered",
            actor=acting_user,
            subject=user,
            details={"identity_check": identity_check[:500]},
        )
    _tell_user(user, "mfa/email/recovered", {})


def _tell_user(user, template_prefix, context):
    context = {"user": user, **context}
    queue_email(
        recipients=[user.email],
        subject=render_to_string(f"{template_prefix}_subject.txt", context).strip(),
        body_text=render_to_string(f"{template_prefix}_message.txt", context).strip(),
    )
