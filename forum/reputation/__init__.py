"""Ranks and badges: what members have earned."""
