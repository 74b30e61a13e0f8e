"""Pages of the reports: analytics."""
urlpatterns: list = []
