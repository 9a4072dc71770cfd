"""Schedule timing: checked with a message that says what to fix, described in words, and
its next fire times computed the way Temporal fires them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runloom.errors import InvalidRequestError
from runloom.services.schedules import check_spec, describe_spec

NOW = datetime(2026, 12, 2, 10, 7, 30, tzinfo=UTC)


def test_cron_in_a_time_zone() -> None:
    described = describe_spec(
        cron="0 9 * * 1-5", interval_s=None, timezone="Europe/Berlin", now=NOW
    )
    assert "09:00" in described.description and "Europe/Berlin" in described.description
    # 10:07 UTC is 11:07 in Berlin: today's 09:00 has passed, Saturday and Sunday are skipped.
    assert [t.isoformat() for t in described.next_runs] == [
        "2026-12-03T09:00:00+01:00",
        "2026-12-04T09:00:00+01:00",
        "2026-12-07T09:00:00+01:00",
        "2026-12-08T09:00:00+01:00",
        "2026-12-09T09:00:00+01:00",
    ]


def test_intervals_count_from_the_epoch_as_temporal_does() -> None:
    described = describe_spec(cron=None, interval_s=300, timezone="UTC", now=NOW)
    assert described.description == "Every 5 minutes"
    assert [t.strftime("%H:%M:%S") for t in described.next_runs] == [
        "10:10:00", "10:15:00", "10:20:00", "10:25:00", "10:30:00"
    ]  # fmt: skip
    assert describe_spec(cron=None, interval_s=1, timezone="UTC").description == "Every second"
    assert describe_spec(cron=None, interval_s=7200, timezone="UTC").description == "Every 2 hours"


@pytest.mark.parametrize(
    ("cron", "interval_s", "timezone", "fix"),
    [
        (None, None, "UTC", "either `cron` or `interval_s`"),
        ("* * * * *", 60, "UTC", "not both"),
        ("* * * * * *", None, "UTC", "five fields"),
        ("@reboot", None, "UTC", "five fields"),
        ("*/5 * * * MON;", None, "UTC", "five fields"),
        ("0 25 * * *", None, "UTC", "hour 0-23"),
        ("* * * * *", None, "Berlin", "IANA time zone"),
        ("* * * * *", None, "../../etc/passwd", "IANA time zone"),
        (None, 0, "UTC", "at least 1 second"),
    ],
)
def test_bad_timing_says_what_to_fix(
    cron: str | None, interval_s: int | None, timezone: str, fix: str
) -> None:
    with pytest.raises(InvalidRequestError, match=fix.replace("*", r"\*").replace("`", "`")):
        check_spec(cron=cron, interval_s=interval_s, timezone=timezone)
