"""The shared time helpers: one clock, one ISO 8601 reader."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from secretwire import _time
from secretwire.testing import FakeClock

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2030-01-02T03:04:05.123456789Z", datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("2030-01-02T03:04:05+02:00", datetime(2030, 1, 2, 1, 4, 5, tzinfo=UTC)),
        ("2030-01-02T03:04:05-0130", datetime(2030, 1, 2, 4, 34, 5, tzinfo=UTC)),
        ("2030-01-02 03:04:05", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)),  # naive: UTC
        ("0001-01-01T00:00:00Z", None),  # Go's zero time: no time
        ("", None),
        ("yesterday", None),
        ("2030-13-01T00:00:00Z", None),
        (5, None),
    ],
)
def test_parse_iso_reads_what_backends_write(text: object, moment: datetime | None) -> None:
    assert _time.parse_iso(text) == moment
    if moment is not None:
        assert _time.parse_iso(_time.isoformat(moment)) == moment


def test_aware_and_is_aware() -> None:
    naive = datetime(2030, 1, 1)
    assert not _time.is_aware(naive)
    assert _time.aware(naive) == datetime(2030, 1, 1, tzinfo=UTC)
    assert _time.aware("2030") is None


def test_the_clock_can_be_swapped_and_is_restored() -> None:
    before = _time.utcnow()
    clock = FakeClock(30)
    with clock.installed():
        assert _time.utcnow() == datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC)
        clock.advance(30)
        assert _time.utcnow() - clock.epoch == timedelta(minutes=1)
    assert abs(_time.utcnow() - before) < timedelta(minutes=5)
    assert clock() == 60.0
