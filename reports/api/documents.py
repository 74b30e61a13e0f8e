"""The reports API: documents (filled in below)."""
urlpatterns: list = []
