from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("my/", include("portal.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("config.api")),
    path("verify/", core_views.verify_lookup, name="verify-lookup"),
    path("verify/<str:code>/", core_views.verify, name="verify"),
    path("documents/<str:code>/download/", core_views.document_download, name="document-download"),
    path("media/<path:path>", core_views.protected_media, name="protected-media"),
    path("i18n/", include("django.conf.urls.i18n")),
]
