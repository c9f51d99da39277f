"""How access control reads the privacy app's models.

A data-subject request: its partner is the scope, its subject the person it is about. A consent
record: the person who gave or withdrew it.
"""

from apps.gdpr.models import ConsentRecord, DataSubjectRequest
from apps.rbac.registry import declare

declare(
    DataSubjectRequest, resource="privacy-requests", owner="subject",
    attributes={"partner": "partner"},
)  # fmt: skip
declare(ConsentRecord, resource="consents", owner="user")
