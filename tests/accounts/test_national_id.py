"""One national id has one blind index, however it was typed (case 15 beyond ASCII)."""

import pytest
from django.db import IntegrityError

from apps.accounts.models import Profile, normalize_national_id
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

# Written out by code: the characters themselves look like the plain ones in an editor.
FULLWIDTH = "QQ123456C".translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
ARABIC_INDIC_DIGITS = "QQ123456C".translate({ord(d): 0x0660 + int(d) for d in "0123456789"})


@pytest.mark.parametrize(
    "typed", ["QQ 12 34 56 C", "qq-123456-c", FULLWIDTH, ARABIC_INDIC_DIGITS, " qq123456c "]
)
def test_every_way_of_typing_an_id_normalises_to_one_value(typed):
    assert normalize_national_id(typed) == "QQ123456C"


def test_a_fullwidth_copy_of_a_registered_id_is_refused_and_found_by_the_plain_one():
    dana = make_person("dana@example.com")
    casey = make_person("casey@example.com")
    Profile.objects.create(user=dana, national_id="QQ123456C")

    assert Profile.objects.get(national_id_index__matches=FULLWIDTH).user == dana
    with pytest.raises(IntegrityError):
        Profile.objects.create(user=casey, national_id=FULLWIDTH)
