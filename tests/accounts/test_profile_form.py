"""What the profile form accepts, and how mail names a person."""

import pytest
from allauth.account.utils import user_display

from apps.accounts.forms import ProfileForm

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("born", ["2999-01-01", "1899-12-31"])
def test_a_date_of_birth_in_the_future_or_before_1900_is_refused(customer, born):
    form = ProfileForm(data={"date_of_birth": born}, user=customer)

    assert not form.is_valid()
    assert "date_of_birth" in form.errors


def test_a_real_date_of_birth_is_accepted(customer):
    assert ProfileForm(data={"date_of_birth": "1987-03-14"}, user=customer).is_valid()


def test_mail_and_pages_name_a_person_by_their_address(customer):
    assert user_display(customer) == "casey@example.com"
