"""Writes about partners and their customers."""

import secrets

from django.db import IntegrityError, transaction
from oauth2_provider.models import get_application_model

from apps.accounts.models import User
from apps.partners.models import Customer, PartnerApplication
from apps.partners.scopes import PARTNER_SCOPES
from apps.rbac.models import Role
from apps.rbac.services import bind_role
from apps.siem.events import emit

SERVICE_USER_DOMAIN = "partners.invalid"
PARTNER_ROLE = "partner-client"


class DuplicateReference(Exception):
    """The partner already has a customer with this reference."""


def register_partner_application(partner, *, name: str, scopes: set[str], actor):
    """Create a client-credentials application for a partner; return it and its secret.

    The secret is shown once: the application stores only its hash.
    """
    unknown = set(scopes) - PARTNER_SCOPES
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")

    service_user = User.objects.create_user(
        f"svc-{partner.pk}-{secrets.token_hex(6)}@{SERVICE_USER_DOMAIN}", password=None
    )
    # The client acts as this user; what it may do is the partner role on this partner only.
    bind_role(
        role=Role.objects.get(name=PARTNER_ROLE),
        user=service_user,
        scope=f"partner:{partner.pk}",
        granted_by=actor if isinstance(actor, User) else None,
        reason=f"service user of partner application {name[:100]!r}",
    )
    secret = secrets.token_urlsafe(40)
    Application = get_application_model()
    application = Application.objects.create(
        name=name[:255],
        user=service_user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    PartnerApplication.objects.create(
        application=application, partner=partner, scopes=" ".join(sorted(scopes))
    )
    emit(
        "data.modification",
        actor=actor,
        subject=f"partner:{partner.pk}",
        details={"action": "partner_application.registered", "client_id": application.client_id},
    )
    return application, secret


def create_customer(partner, *, data: dict, actor: str) -> Customer:
    try:
        with transaction.atomic():
            customer = Customer.objects.create(partner=partner, **data)
    except IntegrityError:
        raise DuplicateReference from None
    emit(
        "data.modification",
        actor=actor,
        subject=f"partner:{partner.pk}",
        details={"action": "customer.created", "customer": customer.pk},
    )
    return customer


def update_customer(customer: Customer, *, data: dict, actor: str) -> Customer:
    for field, value in data.items():
        setattr(customer, field, value)
    try:
        with transaction.atomic():
            # A full save: a changed email also rewrites its blind index.
            customer.save()
    except IntegrityError:
        raise DuplicateReference from None
    emit(
        "data.modification",
        actor=actor,
        subject=f"partner:{customer.partner_id}",
        details={"action": "customer.updated", "customer": customer.pk, "fields": sorted(data)},
    )
    return customer


def record_customer_reads(customers, *, fields: list[str], actor: str) -> None:
    """One data.access event for every response that showed customers' personal fields."""
    ids = [customer.pk for customer in customers]
    if not ids:
        return
    emit(
        "data.access",
        actor=actor,
        subject=f"partner:{customers[0].partner_id}",
        details={"resource": "customer", "ids": ids, "fields": fields},
    )
