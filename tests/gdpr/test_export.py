"""The export archive through a real worker, and its one download."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.gdpr import archive, services
from apps.gdpr.downloads import purge_exports
from apps.gdpr.models import DataSubjectRequest, ExportArchive
from apps.partners.models import Customer, Partner
from apps.siem.models import SecurityEvent
from tests.gdpr.conftest import log_in_and_reauthenticate as _log_in
from tests.gdpr.conftest import wait_until
from tests.gdpr.factories import give_a_full_history

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FORMULA_NAME = '=HYPERLINK("http://127.0.0.1:9/x","click me")'


def _completed_export(person):
    request = services.file_request(kind="export", subject=person, channel="user", by=person)
    assert request.state == DataSubjectRequest.State.SCHEDULED, "own exports need no approval"

    def finished():
        request.refresh_from_db()
        return request.state in {"completed", "failed"}

    wait_until(finished, timeout=30, message="export finished")
    assert request.state == "completed", request.failure
    return request


def test_the_export_zip_round_trips_and_a_formula_name_is_inert_in_csv(
    celery_worker, client, erin, privacy_officer
):
    give_a_full_history(erin, staff_member=privacy_officer)
    partner = Partner.objects.create(name="Formula Partner")
    Customer.objects.create(
        partner=partner, owner=erin, reference="f-1", display_name=FORMULA_NAME, email=""
    )
    request = _completed_export(erin)
    _log_in(client, erin)

    response = client.post(reverse("privacy_download_export", args=[request.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(response.content))

    # Every file parses, and the manifest lists exactly the files with their digests.
    manifest = json.loads(bundle.read("manifest.json"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(bundle.namelist()) - {"manifest.json"}
    for path, entry in listed.items():
        content = bundle.read(path)
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
        if entry["format"] == "json":
            json.loads(content)
        else:
            rows = list(csv.DictReader(io.StringIO(content.decode())))
            assert len(rows) == entry["rows"]

    account = json.loads(bundle.read("account.json"))["account"]
    assert account[0]["email"] == erin.email
    assert {"email_addresses.json", "security_events.json", "consents.json"} <= set(listed)

    customers = list(
        csv.DictReader(io.StringIO(bundle.read("csv/partner_customers/customers.csv").decode()))
    )
    formula_row = next(row for row in customers if row["reference"] == "f-1")
    assert formula_row["display_name"] == "'" + FORMULA_NAME
    assert formula_row["id"].isdigit(), "numbers stay numbers"
    # The JSON keeps the exact value: only the spreadsheet format needs neutralising.
    exported = json.loads(bundle.read("partner_customers.json"))["customers"]
    assert FORMULA_NAME in {row["display_name"] for row in exported}

    assert SecurityEvent.objects.filter(event_type="gdpr.export.downloaded").count() == 1


def test_an_export_downloads_once_only_by_its_subject_and_is_purged(
    celery_worker, client, erin, customer
):
    request = _completed_export(erin)
    path = archive.export_dir() / request.archive.file_name
    assert path.exists()
    assert str(path).startswith(str(archive.export_dir()))

    _log_in(client, customer)
    assert client.post(reverse("privacy_download_export", args=[request.pk])).status_code == 404

    client.logout()
    _log_in(client, erin)
    assert client.post(reverse("privacy_download_export", args=[request.pk])).status_code == 200
    assert client.post(reverse("privacy_download_export", args=[request.pk])).status_code == 404

    assert purge_exports() == 1
    assert not path.exists()
    assert purge_exports() == 0


def test_an_expired_export_cannot_be_downloaded_and_is_purged(celery_worker, client, erin):
    request = _completed_export(erin)
    ExportArchive.objects.filter(request=request).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    _log_in(client, erin)

    assert client.post(reverse("privacy_download_export", args=[request.pk])).status_code == 404
    assert purge_exports() == 1
    assert not (archive.export_dir() / request.archive.file_name).exists()
