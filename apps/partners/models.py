from django.conf import settings
from django.db import models


class Partner(models.Model):
    """An organisation whose systems call the API; its id is the `partner:<id>` scope."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    def __str__(self):
        return self.name


class Customer(models.Model):
    """A customer record a partner manages, optionally linked to the person's own account."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="customers")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer_records",
    )
    reference = models.CharField(max_length=64, help_text="The partner's own id for this person")
    display_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "reference"], name="customer_ref_unique")
        ]

    def __str__(self):
        return f"customer #{self.pk}"
