"""Remove data past the retention period its classification declares.

For each classified model with a ``retention_anchor`` (the field its periods count from), each
field with ``retention_days`` is cleared (its blind indexes too) on rows whose anchor is older
than the period, or the rows are deleted when the field's action says so. Each run writes a
``RetentionRecord`` per field it changed; running it twice changes nothing the second time.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.core.classification import RetentionAction, classified_models, policy_of
from apps.core.models import RetentionRecord


def apply_retention_policies(*, now=None, models=None) -> list[RetentionRecord]:
    now = now or timezone.now()
    records = []
    for model in models or classified_models():
        policy = policy_of(model)
        if policy is None or not policy.retention_anchor or policy.retention_enforced_by:
            continue
        for name, field_policy in policy.fields.items():
            if field_policy.retention_days is None:
                continue
            cutoff = now - timedelta(days=field_policy.retention_days)
            with transaction.atomic():
                record = _expire(model, policy.retention_anchor, name, field_policy, cutoff)
            if record is not None:
                records.append(record)
    return records


def _expire(model, anchor, name, field_policy, cutoff):
    expired = model._base_manager.filter(**{f"{anchor}__lt": cutoff})
    if field_policy.retention_action == RetentionAction.DELETE:
        rows = expired.count()
        expired.delete()
        action = RetentionRecord.Action.DELETED
    else:
        field = model._meta.get_field(name)
        cleared = {
            name: None,
            **{index.name: None for index in getattr(field, "blind_indexes", [])},
        }
        rows = expired.filter(**{f"{name}__isnull": False}).update(**cleared)
        action = RetentionRecord.Action.ANONYMISED
    if not rows:
        return None
    return RetentionRecord.objects.create(
        model_label=model._meta.label, field_name=name, action=action, rows=rows, cutoff=cutoff
    )
