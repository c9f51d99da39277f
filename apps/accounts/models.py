import hashlib
import unicodedata

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin

from apps.accounts.identifiers import normalize_email
from apps.core.classification import classified, confidential, internal, restricted
from apps.core.crypto import (
    BlindIndexField,
    EncryptedDateField,
    EncryptedModel,
    EncryptedTextField,
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalize_email(email))

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address, unique whatever its letter case."""

    # The password hasher alone writes this column: the GDPR scan need not search it.
    gdpr_scan_skips = ("password",)

    email = models.EmailField(max_length=254, unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Set by a security playbook: every session whose last second factor is older than this
    # must pass one again before it reaches anything else (see apps/accounts/stepup.py).
    second_factor_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [
            # Belt and braces: the code stores addresses folded, and the database refuses two
            # spellings of one address even if a write somewhere bypasses that.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self):
        return f"user #{self.pk}"

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)


def normalize_phone(value: str) -> str:
    """Digits only, keeping a leading "+": "+44 20-7946 0000" and "+442079460000" are one."""
    text = str(value).strip()
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    return ("+" + digits if text.startswith("+") else digits) if digits else ""


def normalize_national_id(value: str) -> str:
    """Letters and digits only, upper case: "ab 12-34-56 c" and "AB123456C" are one.

    Compatibility forms are folded first (NFKC), so the fullwidth letters and digits some
    keyboards type are plain ones, and digits of any script are written as ASCII digits: one
    id, however it was typed, has one blind index. Letters of other scripts are kept,
    upper-cased, since they spell other ids.
    """
    folded = unicodedata.normalize("NFKC", str(value))
    return "".join(
        str(unicodedata.digit(ch)) if ch.isdigit() else ch.upper() for ch in folded if ch.isalnum()
    )


PERSONAL_DETAIL_RETENTION_DAYS = 3 * 365


@classified(
    personal=True,
    subject="user",
    retention_anchor="updated_at",
    fields={
        "id": internal(),
        "row_nonce": internal(),
        "user": internal(),
        "first_name": confidential(access_logged=True),
        "last_name": confidential(access_logged=True),
        "phone": confidential(access_logged=True),
        "phone_index": internal(),
        "date_of_birth": confidential(
            access_logged=True, retention_days=PERSONAL_DETAIL_RETENTION_DAYS
        ),
        "address": confidential(access_logged=True, retention_days=PERSONAL_DETAIL_RETENTION_DAYS),
        "national_id": restricted(access_logged=True),
        "national_id_index": internal(),
        "updated_at": internal(),
    },
)
class Profile(EncryptedModel):
    """A person's own details, each stored encrypted under the pii keyset.

    The phone number and national id can be found by exact value through their blind indexes
    (staff search by phone; a national id belongs to one person only). Date of birth and
    address are cleared three years after the profile was last confirmed or changed.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    first_name = EncryptedTextField(max_length=150, blank=True, null=True)
    last_name = EncryptedTextField(max_length=150, blank=True, null=True)
    phone = EncryptedTextField(max_length=32, blank=True, null=True)
    phone_index = BlindIndexField(source="phone", normalizer=normalize_phone)
    date_of_birth = EncryptedDateField(blank=True, null=True)
    address = EncryptedTextField(max_length=500, blank=True, null=True)
    national_id = EncryptedTextField(max_length=32, blank=True, null=True)
    national_id_index = BlindIndexField(
        source="national_id", normalizer=normalize_national_id, unique=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"profile of user #{self.user_id}"


# --- Second factors ------------------------------------------------------------------------
# django-otp is the one device store: its TOTP device (django_otp.plugins.otp_totp), the
# backup-code device below and django-otp-webauthn's passkeys are all `Device` subclasses, so
# `devices_for_user()` and the OTP admin site see every factor a user has.


class BackupCodeDevice(ThrottlingMixin, Device):
    """A set of single-use backup codes, stored as salted SHA-256 digests.

    django-otp's stock static device keeps its tokens in plain text; a database reader could
    then log in as anyone. The codes are random (60 bits each), so a fast salted digest is
    enough: a slow password hash would only make every login slower.
    """

    salt = models.CharField(max_length=32)

    class Meta(Device.Meta):
        verbose_name = "backup code set"

    def get_throttle_factor(self):
        return 1

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def digest(self, code: str) -> str:
        return hashlib.sha256(f"{self.salt}:{code}".encode()).hexdigest()

    def verify_token(self, token):
        """Spend one unused code; of two simultaneous requests with one code, only one wins."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False

        # The conditional UPDATE is the claim: the database lets exactly one request change
        # the row from unused to used, however many arrive at once.
        spent = self.codes.filter(digest=self.digest(token), used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if not spent:
            self.throttle_increment(commit=True)
            return False
        self.throttle_reset(commit=True)
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="accounts_backup_code_once")
        ]

    def __str__(self):
        return f"backup code #{self.pk}"


class SecondFactorFailure(models.Model):
    """One wrong second-factor code, kept to spot slow guessing across every device."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"second-factor failure #{self.pk}"


class SecondFactorLock(models.Model):
    """The second factor of a user who guessed too often; lifted by time or by staff."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="second_factor_lock")
    locked_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField()

    def __str__(self):
        return f"second-factor lock of user #{self.user_id}"
