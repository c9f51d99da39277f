"""Properties that hold for every card number and every string, checked with hypothesis."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.scrub import scrub_text
from apps.pci import services
from apps.pci.access import Caller
from apps.pci.masking import mask_card
from apps.pci.models import CardToken
from apps.pci.validation import BRANDS, CardRejected, luhn_is_valid, validate_pan


@st.composite
def valid_pans(draw):
    """A Luhn-valid number of a real brand's prefix and one of its lengths."""
    brand = draw(st.sampled_from(BRANDS))
    first, last = draw(st.sampled_from(brand.ranges))
    prefix = str(draw(st.integers(int(first), int(last)))).zfill(len(first))
    length = draw(st.sampled_from(sorted(brand.lengths)))
    body = prefix + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=length - len(prefix) - 1,
                      max_size=length - len(prefix) - 1))
    )  # fmt: skip
    number = next(body + d for d in "0123456789" if luhn_is_valid(body + d))
    # Longer prefixes of other brands may claim this number; keep only those of this brand.
    card = validate_pan(number)
    return number, card.brand


@st.composite
def grouped(draw, number):
    """The number split into groups by single spaces or dashes, as people write it."""
    separator = draw(st.sampled_from(["", " ", "-"]))
    cuts = sorted(draw(st.sets(st.integers(1, len(number) - 1), max_size=5)))
    pieces, start = [], 0
    for cut in [*cuts, len(number)]:
        pieces.append(number[start:cut])
        start = cut
    return separator.join(pieces) if separator else number


@given(st.text(max_size=60))
def test_no_string_crashes_the_validator(written):
    card, refusal = None, None
    try:
        card = validate_pan(written)
    except CardRejected as refused:
        refusal = refused

    if refusal is not None:
        assert refusal.rule
        # The message never repeats the number it was given.
        digits = "".join(c for c in written if c in "0123456789")
        if len(digits) >= 5:
            assert digits not in refusal.message
    else:
        assert set(card.digits) <= set("0123456789")
        assert 12 <= len(card.digits) <= 19


@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.integers())))
def test_no_value_of_another_type_crashes_the_validator(value):
    with pytest.raises(CardRejected):
        validate_pan(value)


@given(valid_pans().flatmap(lambda pan: st.tuples(st.just(pan), grouped(pan[0]))))
def test_every_valid_number_passes_however_it_is_grouped(case):
    (number, brand), written = case

    card = validate_pan(written)

    assert (card.digits, card.brand) == (number, brand)


@given(valid_pans())
def test_the_mask_shows_the_brand_and_exactly_the_last_four(case):
    number, brand = case

    masked = mask_card(brand, number)

    assert masked.startswith(brand)
    assert masked.endswith(number[-4:])
    assert sum(c.isdigit() for c in masked) == 4


@given(valid_pans(), st.text(max_size=20), st.text(max_size=20))
def test_the_log_scrubber_removes_any_valid_number_from_any_surrounding_text(case, before, after):
    number, _ = case
    # Surrounding digits would make a different, longer number; keep the card on its own.
    text = f"{before} {number} {after}"

    assert number not in scrub_text(text)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(valid_pans(), st.sampled_from(CardToken.Format.values))
def test_any_valid_number_round_trips_through_tokenise_and_detokenise(
    card_revealer, case, token_format
):
    number, brand = case
    owner = card_revealer
    olivia = Caller.for_user(card_revealer, second_factor_recent=True)

    card, _ = services.tokenize_card(
        pan=number, expiry_month=12, expiry_year=2030, owner=owner, actor=olivia,
        token_format=token_format,
    )  # fmt: skip

    assert card.brand == brand
    assert card.last_four == number[-4:]
    assert services.detokenize_card(token=card.token, purpose="property test", actor=olivia) == (
        number
    )
