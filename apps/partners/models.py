from django.conf import settings
from django.db import models
from oauth2_provider.settings import oauth2_settings

from apps.accounts.identifiers import normalize_email
from apps.core.classification import classified, confidential, internal
from apps.core.crypto.fields import (
    BlindIndexField,
    EncryptedEmailField,
    EncryptedModel,
    EncryptedTextField,
)


class Partner(models.Model):
    """An organisation whose systems call the API; its id is the `partner:<id>` scope."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    def __str__(self):
        return self.name


@classified(
    personal=True,
    subject="owner",
    fields={
        "id": internal(),
        "row_nonce": internal(),
        "partner": internal(),
        "owner": internal(),
        "reference": internal(),
        "display_name": confidential(access_logged=True),
        "email": confidential(access_logged=True),
        "email_index": internal(),
        "created_at": internal(),
    },
)
class Customer(EncryptedModel):
    """A customer record a partner manages, optionally linked to the person's own account.

    Name and email are stored encrypted; the email can be found by exact value through its
    blind index (``email_index__matches``), whatever its letter case.
    """

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="customers")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer_records",
    )
    reference = models.CharField(max_length=64, help_text="The partner's own id for this person")
    display_name = EncryptedTextField(max_length=200, blank=True, null=True)
    email = EncryptedEmailField(blank=True, null=True)
    email_index = BlindIndexField(source="email", normalizer=normalize_email)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "reference"], name="customer_ref_unique")
        ]

    def __str__(self):
        return f"customer #{self.pk}"


class PartnerApplication(models.Model):
    """Ties an OAuth2 application to the partner it acts for, and caps the scopes it may get.

    The application's user is the partner's service user: machine clients act as it, and its
    role bindings are scoped to `partner:<id>`. A token's scopes can only narrow that.
    """

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="partner_link"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="applications")
    scopes = models.CharField(
        max_length=500, help_text="Space-separated scopes this application may be granted"
    )

    def __str__(self):
        return f"application #{self.application_id} of partner #{self.partner_id}"

    @property
    def scope_set(self) -> set[str]:
        return set(self.scopes.split())
