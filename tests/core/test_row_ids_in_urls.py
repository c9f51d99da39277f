"""A row id in a URL that no database integer can hold is a 404, never an overflow."""

import pytest
from django.urls import Resolver404, resolve

from tests.support import force_login_verified

HUGE = "99999999999999999999999"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        f"/privacy/requests/{HUGE}/download/",
        f"/privacy/requests/{HUGE}/cancel/",
        f"/account/security/passkeys/{HUGE}/remove/",
        f"/account/sessions/{HUGE}/end/",
    ],
)
def test_a_signed_in_user_posting_a_huge_id_gets_a_404(client, customer, path):
    force_login_verified(client, customer)

    assert client.post(path).status_code == 404


def test_the_largest_id_a_bigint_holds_still_resolves():
    match = resolve("/privacy/requests/999999999999999999/download/")

    assert match.kwargs == {"request_id": 999_999_999_999_999_999}
    with pytest.raises(Resolver404):
        resolve(f"/privacy/requests/{HUGE}/download/")
