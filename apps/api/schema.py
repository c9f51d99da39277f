"""Schema additions that every operation shares: the error body and its status codes."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "fields"],
    "properties": {
        "code": {"type": "string", "example": "invalid"},
        "message": {"type": "string", "example": "Some fields of the request are invalid."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {}},
            "example": {"email": ["Enter a valid email address."]},
        },
    },
}
ERROR_DESCRIPTIONS = {
    "400": "The request is malformed or a field is invalid.",
    "401": "No valid credentials were given.",
    "403": "The credentials do not allow this.",
    "404": "No such resource, or not one the caller may see.",
    "405": "The method is not allowed here.",
    "406": "The requested representation is not available.",
    "415": "The request body is not JSON.",
    "429": "Too many requests; retry after the number of seconds in Retry-After.",
}

# What a client sees for the commonest errors; a refusal never says which grant was missing.
ERROR_EXAMPLES = {
    "400": ("Invalid field", "invalid", "Some fields of the request are invalid.",
            {"email": ["Enter a valid email address."]}),
    "401": ("No credentials", "not_authenticated",
            "Authentication credentials were not provided.", {}),
    "403": ("Refused", "permission_denied",
            "You do not have permission to perform this action.", {}),
    "404": ("Not found", "not_found", "Not found.", {}),
    "429": ("Slow down", "throttled", "Request was throttled. Expected available in 30 seconds.",
            {}),
}  # fmt: skip


def _error_examples(status_code):
    if status_code not in ERROR_EXAMPLES:
        return {}
    summary, code, message, fields = ERROR_EXAMPLES[status_code]
    value = {"code": code, "message": message, "fields": fields}
    return {"examples": {code: {"summary": summary, "value": value}}}


def add_error_responses(result, generator, request, public):
    """Document the common error statuses on every operation, all with the one error body."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status_code, description in ERROR_DESCRIPTIONS.items():
                response = responses.setdefault(
                    status_code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
                media = response.get("content", {}).get("application/json")
                if media is not None and not media.get("examples"):
                    media.update(_error_examples(status_code))
    return result


class PartnerClientScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.PartnerClientAuthentication"
    name = "partnerClient"

    def get_security_definition(self, auto_schema):
        scopes = settings.OAUTH2_PROVIDER["SCOPES"]
        return {
            "type": "oauth2",
            "description": "Machine clients: client-credentials grant at /o/token/.",
            "flows": {"clientCredentials": {"tokenUrl": "/o/token/", "scopes": scopes}},
        }


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.UserTokenAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "User clients: access token from /api/v1/auth/token/.",
        }
