"""Models of the wipe app; none yet."""
