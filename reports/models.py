"""Models of the reports app; none yet."""
