"""Turn querysets into plain rows for an export."""

import json

from django.core.serializers.json import DjangoJSONEncoder


def _value(instance, path: str):
    for part in path.split("__"):
        if instance is None:
            return None
        instance = getattr(instance, part)
    return instance


def rows(queryset, *fields: str) -> list[dict]:
    """The chosen columns of each row, as JSON-ready values (dates become ISO 8601 text).

    Read through model instances rather than ``values()``: encrypted fields open only on an
    instance, and ``values()`` would hand back their unopened form.
    """
    related = sorted({path.rsplit("__", 1)[0] for path in fields if "__" in path})
    records = queryset.select_related(*related) if related else queryset
    plain = [{path: _value(record, path) for path in fields} for record in records]
    return json.loads(json.dumps(plain, cls=DjangoJSONEncoder))
