"""Moderator actions on posts and threads."""
