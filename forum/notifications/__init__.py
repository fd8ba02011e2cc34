"""Notifications: watching threads and boards, the notification list, e-mail choices, unsubscribe."""
