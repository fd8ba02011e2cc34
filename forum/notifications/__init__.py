"""Notifications: watching threads and boards, the notification list, e-mail choices, unsubscribe.

The blueprint lives in views.py (as search's does), so services elsewhere can import
forum.notifications.services without pulling in any views.
"""
