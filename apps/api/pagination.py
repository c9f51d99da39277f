from rest_framework.pagination import CursorPagination


class PortalCursorPagination(CursorPagination):
    """Opaque cursors over a unique, indexed ordering: stable pages, no COUNT(*) per request."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"
