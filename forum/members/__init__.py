"""Member profiles."""
