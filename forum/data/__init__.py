"""Data files shipped with the forum (breached passwords, the demo thread)."""
