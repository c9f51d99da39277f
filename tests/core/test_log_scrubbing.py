"""No card number reaches a log line: messages, arguments, exceptions, extras, any logger."""

import io
import logging

import pytest
from rest_framework.test import APIClient

from apps.core.logging import ScrubSecretsFilter, install_log_scrubbing
from apps.core.scrub import REDACTED, scrub, scrub_text
from tests.pci import cards


@pytest.fixture
def raw_stream():
    """A logger with its own unfiltered handler that does not propagate: only the record
    factory installed for the whole process stands between it and the card number."""
    install_log_scrubbing()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("tests.unfiltered")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


@pytest.mark.parametrize(
    "written",
    [
        cards.VISA,
        cards.VISA_SPACED,
        "4111-1111-1111-1111",
        cards.AMEX,
        cards.VISA_19,
        cards.written_in(cards.VISA, cards.FULLWIDTH_ZERO),
        cards.written_in(cards.MASTERCARD, cards.ARABIC_INDIC_ZERO),
    ],
)
def test_a_card_number_in_text_is_redacted_however_it_is_written(written):
    assert scrub_text(f"charge of card {written} failed") == f"charge of card {REDACTED} failed"


def test_a_card_number_glued_after_other_digit_groups_is_still_found():
    text = f"order 12 {cards.VISA_SPACED} at 2026-12-04"

    assert scrub_text(text) == f"order 12 {REDACTED} at 2026-12-04"


@pytest.mark.parametrize(
    "harmless",
    [
        "order 4111111111111112 shipped",  # fails Luhn: an order number, not a card
        "at 2026-12-04 15:49:57.123456",
        "request 1733327397123 took 12 ms",
        "format-preserving token 9263519470241111",
    ],
)
def test_numbers_that_fail_luhn_stay_readable(harmless):
    assert scrub_text(harmless) == harmless


def test_secret_named_keys_and_card_numbers_in_values_are_redacted():
    details = {
        "card_number": "x",
        "cvv": "123",
        "note": f"paid with {cards.MASTERCARD}",
        "nested": [{"pan": "4"}, int(cards.VISA)],
        "status_code": 200,
    }

    assert scrub(details) == {
        "card_number": REDACTED,
        "cvv": REDACTED,
        "note": f"paid with {REDACTED}",
        "nested": [{"pan": REDACTED}, REDACTED],
        "status_code": 200,
    }


def test_a_card_number_passed_as_a_log_argument_is_redacted_by_any_logger(raw_stream):
    logger, stream = raw_stream

    logger.warning("declined %s for %s", cards.VISA, "user:7")

    assert stream.getvalue() == f"declined {REDACTED} for user:7\n"


def test_a_card_number_in_an_exception_message_is_redacted_from_its_traceback(raw_stream):
    logger, stream = raw_stream

    try:
        raise ValueError(f"gateway refused {cards.AMEX}")
    except ValueError:
        logger.exception("charging failed")

    assert "gateway refused" in stream.getvalue()
    assert cards.AMEX not in stream.getvalue()


def test_the_handler_filter_redacts_extra_details():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "event", None, None)
    record.details = {"note": cards.DISCOVER, "token": "abc"}

    ScrubSecretsFilter().filter(record)

    assert record.details == {"note": REDACTED, "token": REDACTED}


def test_installing_the_scrubbing_twice_wraps_the_factory_once():
    install_log_scrubbing()
    factory = logging.getLogRecordFactory()

    install_log_scrubbing()

    assert logging.getLogRecordFactory() is factory


def test_a_card_number_in_an_unhandled_request_error_is_not_logged(monkeypatch, caplog, db):
    """A PAN pushed through the API's error path: the 500 is logged by django.request."""
    from apps.accounts.models import User
    from apps.pci import services

    def broken(**kwargs):
        raise RuntimeError(f"storage failed for {kwargs['pan']}")

    monkeypatch.setattr(services, "tokenize_card", broken)
    user = User.objects.create_user("erin@example.com", "irrelevant-password-1")
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(
            "/api/v1/cards/",
            {"number": cards.VISA, "expiry_month": "12", "expiry_year": "2030"},
            content_type="application/json",
        )

    assert response.status_code == 500
    assert cards.VISA.encode() not in response.content
    assert "storage failed for" in caplog.text
    assert cards.VISA not in caplog.text


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        (
            '"GET /accounts/confirm-email/MTk:1tHx:abc/ HTTP/1.1" 302',
            f'"GET /accounts/confirm-email/{REDACTED}/ HTTP/1.1" 302',
        ),
        (
            "Not Found: /accounts/password/reset/key/1b-c9x-4a7f3e/",
            f"Not Found: /accounts/password/reset/key/{REDACTED}/",
        ),
        (
            "/accounts/google/login/callback/?code=4/0Abc&state=xyz&page=2",
            f"/accounts/google/login/callback/?code={REDACTED}&state={REDACTED}&page=2",
        ),
        (
            "https://rp.example/cb#x?access_token=t1&id_token=t2&scope=openid",
            f"https://rp.example/cb#x?access_token={REDACTED}&id_token={REDACTED}&scope=openid",
        ),
        ("/login/?next=/account/&password=hunter2", f"/login/?next=/account/&password={REDACTED}"),
        # A name written percent-encoded, or with + for a space, is the same name to the server.
        ("/cb/?%63ode=4/0Abc&st%61te=xyz", f"/cb/?%63ode={REDACTED}&st%61te={REDACTED}"),
        ("/o/token/?client+secret=s3", f"/o/token/?client+secret={REDACTED}"),
    ],
)
def test_one_time_secrets_in_urls_are_redacted(logged, expected):
    assert scrub_text(logged) == expected


def test_urls_without_secrets_stay_readable():
    logged = '"GET /api/v1/customers/?cursor=cD0yMDI2&page_size=50 HTTP/1.1" 200'

    assert scrub_text(logged) == logged


@pytest.mark.parametrize(
    "logged",
    [
        "GET /api/v1/cards/?number=4000+0566+5566+5556 HTTP/1.1",
        "GET /api/v1/cards/?number=4000%200566%205566%205556 HTTP/1.1",
        "Not Found: /nonexistent/4000.0566.5566.5556/",
    ],
)
def test_a_card_number_written_as_urls_write_spaces_or_with_dots_is_redacted(logged):
    assert "5566" not in scrub_text(logged)
    assert REDACTED in scrub_text(logged)


@pytest.mark.parametrize(
    "separator",
    [
        "  ",  # two spaces, as a form that pads its groups sends them
        "\t",  # pasted from a spreadsheet
        "\u00a0",  # a no-break space, pasted from a web page or a PDF
        "\u2009",  # a thin space, from a formatted document
        " - ",
        "\u2013",  # an en dash, which word processors put in place of a hyphen
        "\u2212",  # a minus sign
    ],
)
def test_a_card_number_grouped_by_any_space_or_dash_is_redacted(separator):
    written = separator.join(["4000", "0566", "5566", "5556"])

    assert scrub_text(f"charge of card {written} failed") == f"charge of card {REDACTED} failed"


@pytest.mark.parametrize(
    "separator",
    ["%2D", "%2d", "%09", "%C2%A0", "%E2%80%93", "%2B", "+-+"],
)
def test_a_card_number_grouped_by_any_percent_encoded_separator_is_redacted(separator):
    logged = f"GET /api/v1/cards/?number={separator.join(['4000', '0566', '5566', '5556'])} 200"

    assert "5566" not in scrub_text(logged)
    assert REDACTED in scrub_text(logged)


def test_times_and_columns_of_small_numbers_stay_readable():
    logged = "at 2026-12-04  15:49:57.123456 took\t12\t340 ms; ids 1%2C2%2C3"

    assert scrub_text(logged) == logged


def test_a_card_after_a_very_long_run_of_digits_is_redacted_in_one_pass():
    # A client can send a million digits in a field that reaches a log or an event. Tried from
    # each of its digits in turn, the run costs quadratic work: hours, not this test's moment.
    flood = "1" * 1_000_000

    scrubbed = scrub_text(f"{flood} card {cards.VISA_SPACED} {flood}+{flood}")

    assert scrubbed == f"{flood} card {REDACTED} {flood}+{flood}"


def test_addresses_and_sums_joined_like_card_groups_stay_readable():
    logged = "from 192.168.100.200: total 1000+2000+3000 in 0.0281 s"

    assert scrub_text(logged) == logged
