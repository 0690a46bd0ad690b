"""Timestamps as the seeds render them: UTC, `YYYY-MM-DD HH:MM:SS.ffffff`."""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%d %H:%M:%S.%f"
# The seeds' "not yet happened" value for Provider.tm_delete.
NEVER = "9999-01-01 00:00:00.000000"


def utcnow() -> datetime:
    return datetime.now(UTC)


def render(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat() writes the same text as strftime(FORMAT) at a third of the cost (a round
    # of 10,000 probes renders 10,000 timestamps for the write-back).
    return value.isoformat(" ", "microseconds")


def render_or_never(value: datetime | None) -> str:
    return render(value) or NEVER


def parse(text: str) -> datetime:
    """Parse the seeds' format (also accepting ISO 8601 with T/Z); raises ValueError."""
    cleaned = text.strip().replace("T", " ").removesuffix("Z")
    if "+" in cleaned[10:]:
        parsed = datetime.fromisoformat(cleaned)
    else:
        parsed = datetime.fromisoformat(cleaned).replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
