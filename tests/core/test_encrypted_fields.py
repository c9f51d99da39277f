"""Personal data is stored as ciphertext bound to its row and column, and never shown wrongly.

People: Casey (a customer) and Dana (another customer) each have a profile.
"""

import datetime
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Lower

from apps.accounts.models import Profile
from apps.core.crypto import DecryptionError, EncryptedFieldError
from apps.core.crypto.audit import access_batch
from apps.core.crypto.fields import is_sealed
from apps.siem.models import SecurityEvent
from tests.conftest import make_person

pytestmark = pytest.mark.django_db
User = get_user_model()

CASEY = {
    "first_name": "Casey",
    "last_name": "Quartermaine",
    "phone": "+44 20 7946 0321",
    "date_of_birth": datetime.date(1987, 3, 14),
    "address": "12 Wharf Lane, Bristol",
    "national_id": "QQ 12 34 56 C",
}
DANA = {
    "first_name": "Dana",
    "last_name": "Okonkwo-Vance",
    "phone": "+44 20 7946 0999",
    "date_of_birth": datetime.date(1990, 11, 2),
    "address": "7 Orchard Row, Leeds",
    "national_id": "ZX 98 76 54 A",
}


@pytest.fixture
def casey_profile(customer):
    return Profile.objects.create(user=customer, **CASEY)


@pytest.fixture
def dana_profile(db):
    return Profile.objects.create(user=make_person("dana@example.com"), **DANA)


def raw_column(pk, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM accounts_profile WHERE id = %s", [pk])
        return bytes(cursor.fetchone()[0])


def write_raw_column(pk, column, value: bytes):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE accounts_profile SET {column} = %s WHERE id = %s", [value, pk])


def test_a_raw_dump_of_the_profile_table_holds_none_of_the_seeded_values(
    casey_profile, dana_profile
):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_profile")
        rows = cursor.fetchall()
    dump = b"\n".join(
        bytes(cell) if isinstance(cell, (bytes, memoryview)) else str(cell).encode()
        for row in rows
        for cell in row
    )

    assert len(rows) == 2
    for person in (CASEY, DANA):
        for value in person.values():
            spellings = {str(value), str(value).replace(" ", ""), str(value).upper()}
            if isinstance(value, datetime.date):
                spellings |= {value.isoformat(), value.strftime("%Y%m%d")}
            for spelling in spellings:
                assert spelling.encode() not in dump, f"{spelling!r} is readable in the table"


def test_every_kind_of_value_reads_back_as_written(casey_profile):
    profile = Profile.objects.get(pk=casey_profile.pk)

    assert {name: getattr(profile, name) for name in CASEY} == CASEY


def test_a_ciphertext_copied_into_another_row_fails_to_decrypt(casey_profile, dana_profile):
    write_raw_column(dana_profile.pk, "phone", raw_column(casey_profile.pk, "phone"))
    dana = Profile.objects.get(pk=dana_profile.pk)

    with pytest.raises(DecryptionError, match=r"accounts.Profile.phone of row \d+ cannot be"):
        _ = dana.phone


def test_a_ciphertext_copied_into_another_column_fails_to_decrypt(casey_profile):
    write_raw_column(casey_profile.pk, "last_name", raw_column(casey_profile.pk, "first_name"))
    casey = Profile.objects.get(pk=casey_profile.pk)

    with pytest.raises(DecryptionError, match="last_name"):
        _ = casey.last_name
    assert casey.first_name == "Casey", "the original column still reads"


def test_swapping_the_row_nonce_between_rows_breaks_every_field_of_both(
    casey_profile, dana_profile
):
    casey_nonce, dana_nonce = casey_profile.row_nonce, dana_profile.row_nonce
    Profile.objects.filter(pk=casey_profile.pk).update(row_nonce=uuid.uuid4())
    Profile.objects.filter(pk=dana_profile.pk).update(row_nonce=casey_nonce)
    Profile.objects.filter(pk=casey_profile.pk).update(row_nonce=dana_nonce)

    for pk in (casey_profile.pk, dana_profile.pk):
        with pytest.raises(DecryptionError):
            _ = Profile.objects.get(pk=pk).first_name


def test_a_failed_decryption_records_a_security_event_and_never_shows_the_ciphertext(
    casey_profile, dana_profile
):
    stolen = raw_column(casey_profile.pk, "address")
    write_raw_column(dana_profile.pk, "address", stolen)
    dana = Profile.objects.get(pk=dana_profile.pk)

    with pytest.raises(DecryptionError) as raised:
        _ = dana.address

    message = str(raised.value)
    assert stolen.hex() not in message
    assert CASEY["address"] not in message
    event = SecurityEvent.objects.get(event_type="data.decryption.failure")
    assert event.severity == "high"
    assert event.details == {
        "model": "accounts.Profile", "field": "address", "row": dana_profile.pk,
        "key_id": int.from_bytes(stolen[1:5], "big"), "reason": "authentication failed",
    }  # fmt: skip


def test_a_flipped_bit_in_the_ciphertext_fails_to_decrypt(casey_profile):
    tampered = bytearray(raw_column(casey_profile.pk, "date_of_birth"))
    tampered[-1] ^= 1
    write_raw_column(casey_profile.pk, "date_of_birth", bytes(tampered))

    with pytest.raises(DecryptionError):
        _ = Profile.objects.get(pk=casey_profile.pk).date_of_birth


def test_an_unread_value_is_written_back_unchanged_on_save(casey_profile):
    before = raw_column(casey_profile.pk, "address")
    profile = Profile.objects.get(pk=casey_profile.pk)

    profile.first_name = "Case"
    profile.save()

    assert raw_column(casey_profile.pk, "address") == before
    assert raw_column(casey_profile.pk, "first_name") != before
    assert Profile.objects.get(pk=casey_profile.pk).first_name == "Case"


def test_a_value_is_decrypted_only_when_read(casey_profile):
    profile = Profile.objects.get(pk=casey_profile.pk)

    assert is_sealed(profile.__dict__["first_name"])
    assert profile.first_name == "Casey"
    assert profile.__dict__["first_name"] == "Casey"
    assert is_sealed(profile.__dict__["last_name"])


@pytest.mark.parametrize(
    "lookup",
    ["first_name", "first_name__iexact", "first_name__icontains", "phone__startswith",
     "date_of_birth__gt", "date_of_birth__year", "address__in"],
)  # fmt: skip
def test_lookups_on_an_encrypted_field_are_refused_and_point_to_the_blind_index(
    casey_profile, lookup
):
    value = ["x"] if lookup.endswith("__in") else "1990"

    with pytest.raises(EncryptedFieldError, match="encrypted, so the database holds only"):
        Profile.objects.filter(**{lookup: value}).count()


def test_the_refusal_names_the_blind_index_of_a_searchable_field():
    with pytest.raises(EncryptedFieldError, match=r"phone_index__matches"):
        Profile.objects.filter(phone="+44 20 7946 0321").count()


def test_null_checks_are_the_one_lookup_allowed(casey_profile, dana_profile):
    Profile.objects.filter(pk=dana_profile.pk).update(address=None)

    assert list(Profile.objects.filter(address__isnull=True)) == [dana_profile]
    assert list(Profile.objects.filter(address__isnull=False)) == [casey_profile]


def test_a_queryset_update_can_only_clear_an_encrypted_field(casey_profile):
    with pytest.raises(EncryptedFieldError, match=r"Model.save\(\)"), transaction.atomic():
        Profile.objects.update(first_name="Mallory")

    Profile.objects.update(first_name=None)
    assert Profile.objects.get().first_name is None


# --- Case 15: lookups on encrypted fields ------------------------------------------------


def test_a_second_person_with_the_same_national_id_is_refused_as_a_duplicate(casey_profile):
    dana = make_person("dana@example.com")
    # The same id written differently still normalises to the same blind index.
    duplicate = Profile(user=dana, national_id="qq123456c")

    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    with pytest.raises(Exception, match="National id index already exists"):
        duplicate.validate_unique()


def test_a_search_by_national_id_finds_the_first_person(casey_profile, dana_profile):
    found = Profile.objects.filter(national_id_index__matches="qq-12-34-56-c")

    assert list(found) == [casey_profile]
    assert found.get().national_id == CASEY["national_id"]


def test_a_search_by_phone_ignores_spacing(casey_profile, dana_profile):
    assert list(Profile.objects.filter(phone_index__matches="+442079460999")) == [dana_profile]
    assert not Profile.objects.filter(phone_index__matches="+44 20 7946 0000").exists()


@pytest.mark.parametrize("ordering", ["national_id", "-national_id", "last_name", "phone"])
def test_ordering_by_an_encrypted_column_fails_loudly(casey_profile, dana_profile, ordering):
    with pytest.raises(EncryptedFieldError, match="Cannot order by"):
        list(Profile.objects.order_by(ordering))


@pytest.mark.parametrize(
    "ordering",
    [F("last_name"), F("last_name").asc(), F("phone").desc(nulls_last=True), Lower("address")],
    ids=["F", "F.asc", "F.desc-nulls-last", "Lower"],
)
def test_ordering_by_an_expression_over_an_encrypted_column_fails_loudly(
    casey_profile, dana_profile, ordering
):
    with pytest.raises(EncryptedFieldError, match="Cannot order by"):
        list(Profile.objects.order_by(ordering))


def test_ordering_people_by_their_profile_through_an_expression_fails_loudly(
    casey_profile, dana_profile
):
    with pytest.raises(EncryptedFieldError, match=r"Cannot order by.*Profile\.last_name"):
        list(User.objects.order_by(F("profile__last_name").desc()))


@pytest.mark.parametrize(
    "query",
    [
        lambda: Profile.objects.values("phone"),
        lambda: Profile.objects.values(),  # noqa: PLW0108 - a fresh queryset per run
        lambda: Profile.objects.values_list("first_name", "last_name"),
        lambda: Profile.objects.values_list("date_of_birth", flat=True),
        lambda: Profile.objects.annotate(name=F("first_name")).values("name"),
        lambda: User.objects.values("email", "profile__address"),
    ],
    ids=["values", "values-all", "values_list", "flat", "annotated", "through-relation"],
)
def test_values_of_an_encrypted_column_are_refused_rather_than_shown_as_ciphertext(
    casey_profile, query
):
    with pytest.raises(EncryptedFieldError, match=r"values\(\), values_list\(\).*load the"):
        list(query())


def test_an_expression_over_an_encrypted_column_is_not_loaded_onto_the_objects(casey_profile):
    with pytest.raises(EncryptedFieldError, match="encrypted"):
        list(Profile.objects.annotate(name=F("first_name")))


def test_values_of_plain_columns_and_null_checks_still_work(casey_profile, dana_profile):
    Profile.objects.filter(pk=dana_profile.pk).update(address=None)

    with_address = Profile.objects.filter(address__isnull=False).values_list("user_id", flat=True)

    assert list(with_address) == [casey_profile.user_id]


def test_objects_load_and_open_through_every_loading_path(casey_profile):
    joined = User.objects.select_related("profile").get(pk=casey_profile.user_id)
    narrowed = Profile.objects.only("first_name").get(pk=casey_profile.pk)
    refreshed = Profile.objects.defer("address").get(pk=casey_profile.pk)
    refreshed.refresh_from_db()

    assert joined.profile.phone == CASEY["phone"]
    assert narrowed.first_name == CASEY["first_name"]
    assert narrowed.date_of_birth == CASEY["date_of_birth"]  # deferred: loaded on access
    assert refreshed.address == CASEY["address"]


def test_changing_the_phone_moves_its_blind_index(casey_profile):
    profile = Profile.objects.get(pk=casey_profile.pk)
    profile.phone = "+44 117 496 0000"
    profile.save()

    assert list(Profile.objects.filter(phone_index__matches="+441174960000")) == [casey_profile]
    assert not Profile.objects.filter(phone_index__matches=CASEY["phone"]).exists()


# --- Reads are recorded, one event per batch -------------------------------------------


def test_reads_of_access_logged_fields_make_one_event_per_batch(
    casey_profile, dana_profile, compliance_officer
):
    with access_batch(actor=compliance_officer):
        for profile in Profile.objects.order_by("pk"):
            _ = (profile.first_name, profile.last_name, profile.phone, profile.first_name)

    event = SecurityEvent.objects.get(event_type="data.access")
    assert event.actor == f"user:{compliance_officer.pk}"
    assert event.subject == ""
    assert event.details["fields"] == [
        "accounts.Profile.first_name", "accounts.Profile.last_name", "accounts.Profile.phone",
    ]  # fmt: skip
    assert event.details["rows"]["accounts.Profile.first_name"] == 2
    assert event.details["subjects"] == sorted(
        [f"user:{casey_profile.user_id}", f"user:{dana_profile.user_id}"]
    )


def test_a_batch_that_reads_nothing_records_nothing(casey_profile):
    with access_batch():
        Profile.objects.get(pk=casey_profile.pk).save()

    assert not SecurityEvent.objects.filter(event_type="data.access").exists()


def test_reads_inside_a_celery_task_make_one_event_for_the_task(casey_profile, dana_profile):
    from celery.signals import task_postrun, task_prerun

    from apps.core.tasks import apply_retention

    task_prerun.send(sender=apply_retention, task_id="t-1", task=apply_retention)
    for profile in Profile.objects.order_by("pk"):
        _ = (profile.first_name, profile.address)
    assert not SecurityEvent.objects.filter(event_type="data.access").exists()
    task_postrun.send(sender=apply_retention, task_id="t-1", task=apply_retention)

    event = SecurityEvent.objects.get(event_type="data.access")
    assert event.actor == "task:apps.core.tasks.apply_retention"
    assert event.details["fields"] == ["accounts.Profile.address", "accounts.Profile.first_name"]
    assert event.details["subject_count"] == 2
