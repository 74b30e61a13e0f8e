"""Pages of the reports, under /reports/: each module lists its own paths."""
