from django.conf import settings


def organization(request) -> dict:
    return {"ORGANIZATION_NAME": settings.ORGANIZATION_NAME}
