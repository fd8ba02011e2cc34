"""The JSON API under /api/v1: the HTML app's reads and writes for programs, with personal tokens."""
