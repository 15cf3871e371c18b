"""Publication dates as feeds give them (``source.published``), read leniently for the sinks.

The record keeps ``published`` exactly as the input had it; sinks that need a real date (the
PostgreSQL ``published_on`` column, STIX timestamps) read it with :func:`parse_published`, which
never guesses: a value it does not recognise gives ``None``.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_ISO = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?\s*$",
    re.IGNORECASE,
)
# Vietnamese outlets write day first: 15/10/2007, 15-10-2007, 15.10.2007, optionally "10:30 15/10/2007".
_DAY_FIRST = re.compile(r"^\s*(?:(\d{1,2}):(\d{2})\s+)?(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


def _zone(text: str | None) -> timezone:
    if not text or text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def parse_published(value: str | None) -> datetime | None:
    """``value`` as an aware UTC datetime, or ``None`` when it is absent or not recognised.

    Recognised: ISO 8601 dates and date-times (``2007-10-15``, ``2024-03-01T10:00:00+07:00``,
    ``2024-03-01 10:00``) and day-first dates (``15/10/2007``, ``10:30 15/10/2007``). A value
    without a zone is taken as UTC; a date alone as midnight UTC.
    """
    if not value:
        return None
    try:
        match = _ISO.match(value)
        if match:
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            micro = int((fraction or "0")[:6].ljust(6, "0"))
            moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                              int(second or 0), micro, tzinfo=_zone(zone))
            return moment.astimezone(timezone.utc)
        match = _DAY_FIRST.match(value)
        if match:
            hour, minute, day, month, year = match.groups()
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=timezone.utc)
    except (ValueError, OverflowError):  # 2007-02-30, hour 25, year 0...
        return None
    return None
