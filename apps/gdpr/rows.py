"""Turn querysets into plain rows for an export."""

import json

from django.core.serializers.json import DjangoJSONEncoder


def rows(queryset, *fields: str) -> list[dict]:
    """The chosen columns of each row, as JSON-ready values (dates become ISO 8601 text)."""
    return json.loads(json.dumps(list(queryset.values(*fields)), cls=DjangoJSONEncoder))
