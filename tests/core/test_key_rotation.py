"""Keys rotate without downtime: add a key, re-encrypt in batches, remove the old key.

People: Casey and a small crowd of customers whose profiles are rewritten.
"""

import time

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import Profile
from apps.core.crypto import keyring as keyring_module
from apps.core.crypto import rotation
from apps.core.crypto.fields import StoredCiphertext
from apps.core.crypto.keyring import Keyring, key_id_of, use_keyring
from apps.core.models import KeyRotation
from tests.conftest import make_person

CROWD = 25
BATCH = 10
# Each crowd profile has four encrypted values: names, phone and national id.
SEALED_PER_ROW = 4


@pytest.fixture
def isolated_keyring(tmp_path, settings):
    settings.PORTAL_KEYSET_DIR = tmp_path
    with use_keyring(Keyring(environ={}, directory=tmp_path, production=False)) as keyring:
        yield keyring


@pytest.fixture
def crowd(db, isolated_keyring):
    profiles = []
    for number in range(CROWD):
        user = make_person(f"person{number}@example.com")
        profiles.append(
            Profile.objects.create(
                user=user,
                first_name=f"First{number}",
                last_name=f"Last{number}",
                phone=f"+44 20 7946 {number:04d}",
                national_id=f"QQ{number:06d}C",
            )
        )
    return profiles


def add_primary_key(keyring, name):
    key_id, text = keyring.add_key(name, make_primary=True)
    keyring.store(name, text)
    return key_id


def assert_every_profile_reads(count=CROWD):
    profiles = list(Profile.objects.order_by("pk"))
    assert len(profiles) == count
    for number, profile in enumerate(profiles):
        assert profile.first_name == f"First{number}"
        assert profile.phone == f"+44 20 7946 {number:04d}"


def test_write_under_key_one_rotate_to_key_two_and_remove_key_one(crowd, isolated_keyring):
    key_one = isolated_keyring.primary_key_id("pii")
    key_two = add_primary_key(isolated_keyring, "pii")

    run = rotation.rotate_model(Profile, batch_size=BATCH)
    call_command("keys", "remove", "pii", str(key_one))

    assert run.state == KeyRotation.State.FINISHED
    assert (run.rows_seen, run.rows_rewritten, run.batches) == (CROWD, CROWD, 3)
    assert [key.key_id for key in isolated_keyring.keys("pii")] == [key_two]
    assert rotation.key_usage("pii") == {key_two: SEALED_PER_ROW * CROWD}
    assert_every_profile_reads()


def test_removing_a_key_that_rows_still_use_is_refused(crowd, isolated_keyring):
    key_one = isolated_keyring.primary_key_id("pii")
    add_primary_key(isolated_keyring, "pii")

    with pytest.raises(
        CommandError, match=f"key {key_one} of pii still sealed {SEALED_PER_ROW * CROWD}"
    ):
        call_command("keys", "remove", "pii", str(key_one))

    assert key_one in [key.key_id for key in isolated_keyring.keys("pii")]


def test_a_rotation_that_crashes_half_way_finishes_when_run_again(
    crowd, isolated_keyring, monkeypatch
):
    key_one = isolated_keyring.primary_key_id("pii")
    key_two = add_primary_key(isolated_keyring, "pii")
    real_write = rotation._write_batch
    writes = []

    def crash_on_second_batch(*args):
        writes.append(args)
        if len(writes) == 2:
            raise RuntimeError("worker lost power")
        real_write(*args)

    monkeypatch.setattr(rotation, "_write_batch", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        rotation.rotate_model(Profile, batch_size=BATCH)

    stopped = KeyRotation.objects.get()
    assert stopped.state == KeyRotation.State.FAILED
    assert stopped.rows_seen == BATCH, "only the first batch was committed"
    assert rotation.key_usage("pii") == {
        key_one: SEALED_PER_ROW * (CROWD - BATCH),
        key_two: SEALED_PER_ROW * BATCH,
    }

    monkeypatch.setattr(rotation, "_write_batch", real_write)
    finished = rotation.rotate_model(Profile, batch_size=BATCH)

    assert finished.pk == stopped.pk
    assert finished.state == KeyRotation.State.FINISHED
    assert (finished.rows_seen, finished.rows_rewritten) == (CROWD, CROWD)
    assert rotation.key_usage("pii") == {key_two: SEALED_PER_ROW * CROWD}
    assert_every_profile_reads()


def test_running_a_finished_rotation_again_rewrites_nothing(crowd, isolated_keyring):
    add_primary_key(isolated_keyring, "pii")
    rotation.rotate_model(Profile, batch_size=BATCH)
    before = Profile.objects.values_list(StoredCiphertext("first_name"), flat=True).first()

    again = rotation.rotate_model(Profile, batch_size=BATCH)

    assert again.rows_rewritten == CROWD
    assert KeyRotation.objects.count() == 1
    assert Profile.objects.values_list(StoredCiphertext("first_name"), flat=True).first() == before


def test_a_new_index_key_still_finds_old_values_and_rotation_rehashes_them(
    crowd, isolated_keyring
):
    old_index_key = isolated_keyring.primary_key_id("pii-index")
    new_index_key = add_primary_key(isolated_keyring, "pii-index")

    assert Profile.objects.filter(phone_index__matches="+442079460007").count() == 1
    rotation.rotate_model(Profile, batch_size=BATCH)

    assert rotation.key_usage("pii-index") == {new_index_key: 2 * CROWD}
    assert old_index_key not in rotation.key_usage("pii-index")
    assert Profile.objects.get(phone_index__matches="+44 20 7946 0007").first_name == "First7"


def test_values_written_after_a_new_primary_use_it(crowd, isolated_keyring):
    key_two = add_primary_key(isolated_keyring, "pii")
    profile = Profile.objects.get(pk=crowd[0].pk)

    profile.first_name = "Renamed"
    profile.save()

    stored = Profile.objects.values_list(StoredCiphertext("first_name"), flat=True).get(
        pk=profile.pk
    )
    assert key_id_of(stored) == key_two


def test_the_key_command_lists_keys_with_the_values_they_sealed(crowd, isolated_keyring, capsys):
    key_one = isolated_keyring.primary_key_id("pii")

    call_command("keys", "list", "pii")

    line = capsys.readouterr().out.splitlines()[1]
    assert line.split() == [
        str(key_one),
        "ENABLED",
        "primary",
        str(SEALED_PER_ROW * CROWD),
        "values",
    ]


# --- The rotation task on a real worker ----------------------------------------------


@pytest.fixture
def development_pii_keyset():
    """The worker reads the development keysets; whatever a test adds is undone after it."""
    keyring = keyring_module.default_keyring()
    keyring.aead("pii")
    path = keyring.writable_path("pii")
    original = path.read_text()
    yield keyring
    keyring.store("pii", original)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_rotation_task_rewrites_every_row_on_a_worker(celery_worker, development_pii_keyset):
    from apps.core.tasks import rotate_encryption_keys

    for number in range(5):
        user = make_person(f"worker{number}@example.com")
        Profile.objects.create(user=user, first_name=f"First{number}", phone=f"+1 555 {number}")
    new_key = add_primary_key(development_pii_keyset, "pii")

    rotate_encryption_keys.delay()

    deadline = time.monotonic() + 30
    while not KeyRotation.objects.filter(
        model_label="accounts.Profile", state=KeyRotation.State.FINISHED
    ).exists():
        assert time.monotonic() < deadline, celery_worker.log()[-3000:]
        time.sleep(0.2)
    run = KeyRotation.objects.get(model_label="accounts.Profile")
    assert (run.rows_seen, run.rows_rewritten) == (5, 5)
    assert rotation.key_usage("pii") == {new_key: 10}, "two values in each of five rows"
