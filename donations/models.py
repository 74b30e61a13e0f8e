"""Models of the donations app; none yet."""
