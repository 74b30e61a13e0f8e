"""The reports API: compliance (filled in below)."""
urlpatterns: list = []
