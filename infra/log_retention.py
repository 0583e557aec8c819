"""CloudWatch Logs retention: the config's day count as the CDK enum."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from infra.config import CLOUDWATCH_RETENTION_DAYS

# CLOUDWATCH_RETENTION_DAYS, in the same order, as CDK names them.
_RETENTION_NAMES = (
    "ONE_DAY", "THREE_DAYS", "FIVE_DAYS", "ONE_WEEK", "TWO_WEEKS", "ONE_MONTH", "TWO_MONTHS",
    "THREE_MONTHS", "FOUR_MONTHS", "FIVE_MONTHS", "SIX_MONTHS", "ONE_YEAR", "THIRTEEN_MONTHS",
    "EIGHTEEN_MONTHS", "TWO_YEARS", "THREE_YEARS", "FIVE_YEARS", "SIX_YEARS", "SEVEN_YEARS",
    "EIGHT_YEARS", "NINE_YEARS", "TEN_YEARS",
)  # fmt: skip
_BY_DAYS = dict(zip(CLOUDWATCH_RETENTION_DAYS, _RETENTION_NAMES, strict=True))


def retention_days(days: int) -> logs.RetentionDays:
    """``logs.RetentionDays`` for a CloudWatch-accepted number of days (see config rounding)."""
    try:
        return logs.RetentionDays[_BY_DAYS[days]]
    except KeyError:
        raise ValueError(f"{days} days is not a CloudWatch Logs retention") from None
