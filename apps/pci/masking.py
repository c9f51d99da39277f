"""How a card is shown anywhere outside the vault: its brand and its last four digits."""

MASK = "•••• "


def mask_card(brand: str, last_four: str) -> str:
    """ "Visa •••• 1111": enough for a person to recognise their card, never more.

    Only the final four characters of ``last_four`` are ever used, so passing a whole number
    by mistake still shows no more than four digits.
    """
    tail = "".join(c for c in str(last_four) if c in "0123456789")[-4:]
    return f"{brand or 'Card'} {MASK}{tail}".strip()
