"""Pages of the reports: compliance."""
urlpatterns: list = []
