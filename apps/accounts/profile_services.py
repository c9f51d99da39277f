"""Writes to a person's profile: the encrypted details on the account page."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import Profile
from apps.siem.events import emit

PROFILE_FIELDS = ["first_name", "last_name", "phone", "date_of_birth", "address", "national_id"]
DUPLICATE_NATIONAL_ID = "This national id is already registered to another account."


def national_id_taken(value, *, by_other_than) -> bool:
    """Whether another account's profile holds this national id, in any spelling."""
    if not value:
        return False
    return (
        Profile.objects.filter(national_id_index__matches=value)
        .exclude(user=by_other_than)
        .exists()
    )


def update_profile(user, *, actor, changes: dict) -> Profile:
    """Save ``changes`` to the user's profile and record which fields changed (not values)."""
    profile, _ = Profile.objects.get_or_create(user=user)
    # An emptied form field clears the value rather than storing an encrypted empty string.
    wanted = {name: changes[name] or None for name in PROFILE_FIELDS if name in changes}
    changed = sorted(name for name, value in wanted.items() if getattr(profile, name) != value)
    if not changed:
        return profile

    if "national_id" in changed and national_id_taken(wanted["national_id"], by_other_than=user):
        raise ValidationError({"national_id": DUPLICATE_NATIONAL_ID})
    for name in changed:
        setattr(profile, name, wanted[name])
    try:
        # The unique blind index is the last word when two people claim one id at once.
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise ValidationError({"national_id": DUPLICATE_NATIONAL_ID}) from None

    emit("data.modification", actor=actor, subject=user, details={"profile_fields": changed})
    return profile
