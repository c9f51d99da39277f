"""The scrubber's shortcuts change its speed, never its answers."""

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core import scrub as scrubbing
from apps.core.scrub import is_secret_key_name, scrub_text

# Digits of several scripts, every separator the card patterns know, URL pieces and letters.
_PIECES = st.sampled_from(
    ["4111", "1111", "0", "7", "\u0664", "\uff14", " ", "-", "\u2013", "+", "%20", "%2D", ".", "/",
     "?code=", "&token=", "=", "reset/key/", "confirm-email/", "abc", "tok_", "user:"]
)  # fmt: skip


def _without_shortcut(text: str) -> str:
    # scrub_text as it was written before the digit check: both substitutions, always.
    text = scrubbing._ENCODED_DIGIT_GROUPS.sub(scrubbing._redact_encoded_run, text)
    return scrubbing.scrub_url_secrets(scrubbing._DIGIT_GROUPS.sub(scrubbing._redact_run, text))


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_text_is_scrubbed_exactly_as_without_the_digit_shortcut(text):
    assert scrub_text(text) == _without_shortcut(text)


def test_a_card_number_in_any_digits_is_still_found():
    assert "4111" not in scrub_text("card 4111 1111 1111 1111 thanks")
    assert "\u0664" not in scrub_text("card " + "\u0664\u0661\u0661\u0661" + "\u0661" * 12)
    assert scrub_text("no digits here, just words") == "no digits here, just words"


@given(st.text(max_size=20))
def test_a_remembered_key_name_gets_the_answer_it_would_get_afresh(name):
    assert is_secret_key_name(name) == scrubbing._judge_key_name(name)
    assert is_secret_key_name(name) == scrubbing._judge_key_name(name)  # now from memory


def test_long_key_names_are_judged_without_being_remembered():
    long_name = "x" * 100 + "_password"
    before = scrubbing._is_secret_short_name.cache_info().currsize

    assert is_secret_key_name(long_name)
    assert scrubbing._is_secret_short_name.cache_info().currsize == before
