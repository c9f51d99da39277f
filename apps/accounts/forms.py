import datetime

from allauth.account.adapter import get_adapter
from allauth.account.forms import AddEmailForm, LoginForm
from allauth.account.internal.userkit import filter_users_by_email
from django import forms
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from apps.accounts.hashers import PASSWORD_MAX_LENGTH
from apps.accounts.identifiers import normalize_email
from apps.accounts.models import Profile
from apps.accounts.profile_services import (
    DUPLICATE_NATIONAL_ID,
    PROFILE_FIELDS,
    national_id_taken,
)


class PortalAddEmailForm(AddEmailForm):
    """Refuse, visibly, an address that already belongs to another account.

    allauth's enumeration protection would instead attach an unverified copy of the address to
    this account. That copy is useless (it can never be verified while the other account holds
    it) and it leaves two accounts naming one address. A signed-in user learning that an
    address is taken is a smaller leak than that, and sign-up, login and reset still reveal
    nothing about which addresses exist.
    """

    def clean_email(self):
        address = normalize_email(self.data.get("email", ""))
        if any(user.pk != self.user.pk for user in filter_users_by_email(address)):
            raise get_adapter().validation_error("email_taken")
        return super().clean_email()


class PortalLoginForm(LoginForm):
    """allauth's login form, refusing a password longer than any way in accepts, unhashed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        password = self.fields["password"]
        password.max_length = PASSWORD_MAX_LENGTH
        password.validators.append(MaxLengthValidator(PASSWORD_MAX_LENGTH))


EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)


class ProfileForm(forms.ModelForm):
    """The person's own details; every field is optional and stored encrypted."""

    class Meta:
        model = Profile
        fields = PROFILE_FIELDS
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "address": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"national_id": "National id number"}

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_date_of_birth(self):
        born = self.cleaned_data.get("date_of_birth")
        if born is not None and not (EARLIEST_BIRTH_DATE <= born <= timezone.localdate()):
            raise forms.ValidationError("Enter your date of birth: a past date after 1900.")
        return born

    def clean_national_id(self):
        value = self.cleaned_data.get("national_id")
        if national_id_taken(value, by_other_than=self.user):
            raise forms.ValidationError(DUPLICATE_NATIONAL_ID)
        return value
