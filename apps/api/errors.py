"""One error body for the whole API: ``{"code", "message", "fields"}``.

``code`` is a stable machine-readable word, ``message`` a sentence for people, and ``fields``
maps each invalid input field to its list of problems (empty when no field is to blame).
"""

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

INVALID_MESSAGE = "Some fields of the request are invalid."


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def error_response(status_code: int, code: str, message: str, headers=None) -> Response:
    """An error answered without raising, for views that must keep their transaction."""
    return Response(error_body(code, message), status=status_code, headers=headers)


def _field_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {name: _messages(value) for name, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _messages(value) -> list:
    if isinstance(value, list):
        flat = []
        for item in value:
            flat.extend(_messages(item) if isinstance(item, list | dict) else [str(item)])
        return flat
    if isinstance(value, dict):
        # Nested serializers: keep the structure, it tells the client where to look.
        return [{name: _messages(inner) for name, inner in value.items()}]
    return [str(value)]


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", INVALID_MESSAGE, _field_errors(exc.detail))
        return response

    detail = getattr(exc, "detail", None)
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
    code = codes if isinstance(codes, str) else "error"
    message = str(detail) if isinstance(detail, str) else "The request failed."
    if response.status_code == status.HTTP_404_NOT_FOUND:
        # The same words for "missing" and "not yours": a 404 must not confirm that a row exists.
        code, message = "not_found", "Not found."
    response.data = error_body(code, message)
    return response
