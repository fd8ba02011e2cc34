"""Registering, logging in and out, changing the password."""
