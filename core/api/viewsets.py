"""The viewset every app's register-like endpoints share: reads here, writes through the app's services."""
from rest_framework import mixins, viewsets


class RegisterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """List, read, create and edit; no delete: register records are kept (on_delete=PROTECT)."""

    create_service = None
    update_service = None
    update_kwarg = ""

    def perform_create(self, serializer) -> None:
        serializer.instance = type(self).create_service(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = type(self).update_service(
            **{self.update_kwarg: serializer.instance}, by=self.request.user, **serializer.validated_data
        )


class HolderScopedMixin:
    """Narrow the queryset to what the user holds unless they may view every record (core.scoping)."""

    holder_scoped = True

    def get_queryset(self):
        from core.scoping import visible_to

        return visible_to(self.request.user, super().get_queryset())
