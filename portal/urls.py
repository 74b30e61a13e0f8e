from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("loans/<int:pk>/", views.loan_detail, name="loan"),
    path("devices/<int:pk>/", views.device_detail, name="device"),
    path("faults/new/", views.fault_new, name="fault-new"),
    path("faults/<int:pk>/", views.fault_detail, name="fault"),
    path("faults/<int:pk>/reply/", views.fault_reply, name="fault-reply"),
    path("faults/<int:pk>/photo/", views.fault_photo, name="fault-photo"),
    path("documents/<str:code>/", views.document_download, name="document"),
    path("token/", views.api_token, name="api-token"),
    path("personal-data/", views.personal_data, name="personal-data"),
]
