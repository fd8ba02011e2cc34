"""Atom feeds, the sitemap and robots.txt: what is public, in forms machines read."""
