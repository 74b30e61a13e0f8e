"""/api/auth/token/: sign in for a token (POST), see one's own token (GET), revoke it (DELETE)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from core.tokens import token_ending, token_of, token_revoke


class TokenInfoSerializer(serializers.Serializer):
    has_token = serializers.BooleanField(help_text=_("Whether you have an API token now."))
    ending = serializers.CharField(help_text=_("The token's last four characters, to tell it apart."))
    created = serializers.DateTimeField(allow_null=True)


class _SignInOrOwner(BasePermission):
    """Anyone may sign in for a token; seeing and revoking one's token needs to be signed in."""

    def has_permission(self, request, view) -> bool:
        return request.method == "POST" or bool(request.user and request.user.is_authenticated)


def _info(token: Token | None) -> dict:
    if token is None:
        return {"has_token": False, "ending": "", "created": None}
    return {"has_token": True, "ending": token_ending(token), "created": token.created}


class AuthTokenView(ObtainAuthToken):
    """The caller's API token. POST with a user name and password returns the token (the one the user
    has, or a new one); repeated wrong passwords lock the user name for that address (429)."""

    permission_classes = (_SignInOrOwner,)

    def get_serializer_context(self):
        # django-axes sees the sign-in on Django's own request, where its lockout flag is read.
        return {"request": self.request._request, "format": self.format_kwarg, "view": self}

    @extend_schema(request=AuthTokenSerializer, auth=[],
                   responses={200: inline_serializer("AuthToken", {"token": serializers.CharField()}),
                              400: OpenApiResponse(description=_("Wrong user name or password.")),
                              429: OpenApiResponse(description=_("Too many failed attempts: locked for a while."))})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    @extend_schema(responses={200: TokenInfoSerializer})
    def get(self, request, *args, **kwargs):
        return Response(TokenInfoSerializer(_info(token_of(request.user))).data)

    @extend_schema(request=None, responses={204: OpenApiResponse(description=_("Token revoked.")),
                                            404: OpenApiResponse(description=_("You had no token."))})
    def delete(self, request, *args, **kwargs):
        if not token_revoke(request.user):
            return Response({"detail": _("You have no API token to revoke.")}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)
