"""Pages of the reports: documents."""
urlpatterns: list = []
