"""One place where refusals become HTTP answers: 400 for bad input, 409 for a state that forbids it."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            data = {("non_field_errors" if key == "__all__" else key): value for key, value in exc.message_dict.items()}
        else:
            data = {"non_field_errors": exc.messages}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProtectedError):
        return Response({"detail": str(exc.args[0]), "code": "protected"}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
