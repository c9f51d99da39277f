from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}
        ),
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
    )


class RecoveryForm(forms.Form):
    identity_check = forms.CharField(
        label="How the person's identity was checked",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the security event, e.g. 'video call, passport shown'.",
    )
