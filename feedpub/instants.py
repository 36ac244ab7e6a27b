"""Instants as the state file and the build's records keep them: microseconds since the
epoch, UTC. One conversion each way, so a date written is the date read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch; a naive moment is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """The UTC instant ``value`` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=value)
