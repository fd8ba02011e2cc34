"""Time zones: the names a member may choose, the zone a page is shown in, and how times read.

The database keeps UTC; only what a person reads is converted. A page is shown in the viewer's
zone: the one a member chose in their settings, else the browser's own, which static/timezone.js
keeps in the `tz` cookie, else UTC. Every shown time carries its zone's abbreviation ("JST",
"CET", "UTC"), so a time shown in a zone the reader did not expect still says which.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from markupsafe import Markup

COOKIE = "tz"
UTC_ZONE = ZoneInfo("UTC")
# The tz database's continents and oceans, in the order the settings select lists them.
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def known_zones() -> frozenset[str]:
    """Every IANA name the tz database knows, read once ("localtime" is a file naming the
    server's own zone, not a zone: a member choosing it would get whatever the host says)."""
    return frozenset(available_timezones() - {"localtime"})


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone of a known IANA name; None for anything else (a bad cookie, a retired name)."""
    return ZoneInfo(name) if name in known_zones() else None


def member_zone(name: str | None) -> ZoneInfo:
    """The zone a member's e-mail is written in: their choice, else UTC (there is no browser)."""
    return zone_named(name) or UTC_ZONE


def viewer_zone() -> ZoneInfo:
    """The zone this request's pages are shown in; UTC outside a request (jobs, the CLI).

    A member's chosen zone wins over the cookie, so their pages read the same on every device;
    members who never chose follow the browser they are using, as visitors do.
    """
    if not has_request_context():
        return UTC_ZONE
    if "time_zone" not in g:
        chosen = current_user.time_zone if current_user.is_authenticated else None
        g.time_zone = zone_named(chosen) or zone_named(request.cookies.get(COOKIE)) or UTC_ZONE
    return g.time_zone


def browser_zone() -> str | None:
    """The browser's zone as its cookie says, if it names a known zone."""
    name = request.cookies.get(COOKIE)
    return name if zone_named(name) else None


def zone_choices(current: str | None) -> dict[str, list[tuple[str, str]]]:
    """The settings select's groups: UTC, then each region's zones by name. Aliases outside the
    regions ("US/Eastern", "Etc/GMT+5") are valid but not offered, unless one is the current value."""
    groups: dict[str, list[tuple[str, str]]] = {"": [("UTC", "UTC")]}
    for name in sorted(known_zones()):
        region, _, place = name.partition("/")
        if region in REGIONS:
            groups.setdefault(region, []).append((name, place.replace("_", " ")))
    offered = {name for choices in groups.values() for name, _ in choices}
    if current and current not in offered and current in known_zones():
        groups["Other"] = [(current, current)]
    return {region: groups[region] for region in ("", *REGIONS, "Other") if region in groups}


def utc_iso(moment: datetime) -> str:
    """The machine-readable UTC value of a `<time datetime>` attribute: 2026-12-03T13:05:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_date(moment: datetime) -> str:
    """ "Dec 3, 2026": the day of a moment where the viewer is."""
    return _day(moment.astimezone(viewer_zone()))


def format_time(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """ "Dec 3, 2026 2:05 PM CET": the moment in the zone (the viewer's unless given), named."""
    local = moment.astimezone(zone or viewer_zone())
    hour = local.hour % 12 or 12
    return f"{_day(local)} {hour}:{local:%M %p} {local.tzname()}"


def _day(moment: datetime) -> str:
    return f"{moment:%b} {moment.day}, {moment.year}"


def time_tag(moment: datetime) -> Markup:
    """A moment for a page: the viewer's time, with the UTC value for machines."""
    return Markup('<time datetime="{}">{}</time>').format(utc_iso(moment), format_time(moment))


def date_tag(moment: datetime) -> Markup:
    """A moment's day for a page; the exact time, with its zone, shows on hover."""
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc_iso(moment), format_time(moment), format_date(moment)
    )


def init_app(app: Flask) -> None:
    app.jinja_env.filters["time_tag"] = time_tag
    app.jinja_env.filters["date_tag"] = date_tag
    app.jinja_env.filters["time_text"] = format_time
