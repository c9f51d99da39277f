from rest_framework import serializers

from apps.accounts.hashers import PASSWORD_MAX_LENGTH


class TokenObtainSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(
        max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False, write_only=True
    )
    otp = serializers.CharField(
        max_length=16, required=False, help_text="Second-factor code, when the account has one"
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the access token lives")


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class VerifySerializer(serializers.Serializer):
    token = serializers.CharField(max_length=4096)


class VerifiedSerializer(serializers.Serializer):
    active = serializers.BooleanField()


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    date_joined = serializers.DateTimeField()
    roles = serializers.ListField(child=serializers.CharField())
    mfa_verified = serializers.BooleanField()


class TokenSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    refreshed_at = serializers.DateTimeField(allow_null=True)
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    mfa_verified = serializers.BooleanField()
    current = serializers.BooleanField()


class DeviceSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    confirmed = serializers.BooleanField()


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])
    checks = serializers.DictField(child=serializers.ChoiceField(choices=["ok", "down"]))
