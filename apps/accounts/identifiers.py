"""One spelling for each email address, used wherever an address is stored or compared."""


def normalize_email(value: str) -> str:
    """Strip surrounding space and fold case: ``" Sam@Example.COM "`` is ``"sam@example.com"``.

    RFC 5321 lets a mail server treat the local part as case-sensitive, but no mail service in
    use does, and treating two spellings as two accounts invites takeover by look-alike sign-ups.
    """
    return (value or "").strip().lower()


def user_display(user) -> str:
    return user.email
