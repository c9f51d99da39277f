"""Admin support for models with encrypted fields."""

from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist

from apps.core.crypto.fields import EncryptedField


class _ChangeListWithoutCiphertextOrdering(ChangeList):
    def get_ordering_field(self, field_name):
        # A crafted ?o= naming an encrypted column is ignored rather than failing the page.
        try:
            field = self.lookup_opts.get_field(field_name)
        except FieldDoesNotExist:
            field = None
        if isinstance(field, EncryptedField):
            return None
        return super().get_ordering_field(field_name)


class EncryptedFieldsAdminMixin:
    """Never sorts by an encrypted column, whatever the column headers or the URL ask."""

    def get_changelist(self, request, **kwargs):
        return _ChangeListWithoutCiphertextOrdering

    def get_sortable_by(self, request):
        return [
            name
            for name in self.get_list_display(request)
            if not isinstance(_model_field(self.model, name), EncryptedField)
        ]


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
