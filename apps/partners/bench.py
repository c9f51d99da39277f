"""The customer list with no security machinery, mounted only for bench/api.py."""

from rest_framework import generics

from apps.partners.api import CustomerSerializer
from apps.partners.models import Customer


class PlainCustomerList(generics.ListAPIView):
    """Same authentication, serializer and paging; no scope check, partner filter or logging."""

    serializer_class = CustomerSerializer
    queryset = Customer.objects.order_by("-id")
    permission_classes = []
    schema = None
