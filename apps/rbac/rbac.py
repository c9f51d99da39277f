"""Access control's own protected model."""

from apps.rbac.models import AccessReview
from apps.rbac.registry import declare

declare(AccessReview, resource="access-reviews", owner="created_by")
