from django.core.exceptions import ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class PortalCursorPagination(CursorPagination):
    """Opaque cursors over a unique, indexed ordering: stable pages, no COUNT(*) per request."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        # DRF checks that a cursor decodes, not that its position fits the ordering field: a
        # client who builds "p=x" by hand would otherwise reach the database with it and get a
        # 500. Every cursor is the client's input, so a bad one is the same 404 as garbage.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, ValidationError):
            raise NotFound(self.invalid_cursor_message) from None
