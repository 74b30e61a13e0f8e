"""The reports API: analytics (filled in below)."""
urlpatterns: list = []
