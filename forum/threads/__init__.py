"""Boards, threads and posts: reading, posting, editing, kudos."""
