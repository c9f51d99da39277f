"""How access control reads a data-subject request: its partner is the scope, its subject the
person it is about."""

from apps.gdpr.models import DataSubjectRequest
from apps.rbac.registry import declare

declare(
    DataSubjectRequest, resource="privacy-requests", owner="subject",
    attributes={"partner": "partner"},
)  # fmt: skip
