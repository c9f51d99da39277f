"""The decorator and the object lookup that Django views use."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from apps.partners.models import Customer
from apps.rbac.decorators import get_object_for, permission_required
from apps.siem.models import SecurityEvent

pytestmark = pytest.mark.django_db


@permission_required("customers", "read")
def customer_list(request):
    return HttpResponse("the list")


def request_by(user, path="/customers/"):
    request = RequestFactory().get(path)
    request.user = user
    return request


def test_the_decorator_lets_a_permitted_person_through(acme_client):
    assert customer_list(request_by(acme_client)).content == b"the list"


def test_the_decorator_sends_an_anonymous_visitor_to_the_login_page(db):
    response = customer_list(request_by(AnonymousUser()))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_decorator_refuses_with_a_bare_403_and_records_it(mallory):
    response = customer_list(request_by(mallory))

    assert response.status_code == 403
    assert b"customers" not in response.content
    event = SecurityEvent.objects.get(event_type="auth.unauthorized.access")
    assert event.details["path"] == "/customers/"


def test_an_id_that_is_not_yours_is_not_found_and_recorded(acme_client, acme_record, bolt_record):
    request = request_by(acme_client, f"/customers/{bolt_record.pk}/")

    assert get_object_for(request, Customer.objects.all(), pk=acme_record.pk) == acme_record
    with pytest.raises(Http404):
        get_object_for(request, Customer.objects.all(), pk=bolt_record.pk)
    with pytest.raises(Http404):
        get_object_for(request, Customer.objects.all(), pk=bolt_record.pk + 1000)

    events = SecurityEvent.objects.filter(event_type="auth.unauthorized.access")
    assert [e.details["object"] for e in events] == [str(bolt_record.pk)]
