"""``PutCompositeAlarm`` in moto (moto 5.2.5 has no such action, though it stores composites).

moto keeps composite alarms (``DescribeAlarms`` answers them under ``CompositeAlarms``) and its
``PutMetricAlarm`` handler stores one when the request carries an ``AlarmRule``, but no
``put_composite_alarm`` action routes to it, so creating the stack's deployment-health composite
fails. :func:`install` routes the action to that handler, which reads the composite's parameters
(``AlarmName``, ``AlarmRule``, ``AlarmDescription``, ``ActionsEnabled``, the actions, ``Tags``).
moto does not evaluate a composite's rule: :mod:`local.rollback_triggers` does, for the
rehearsal. ``tests/local_env/test_moto_cloudwatch.py`` fails once moto answers it itself, so this
goes then.
"""

from __future__ import annotations

from moto.cloudwatch.responses import CloudWatchResponse


def moto_answers_it() -> bool:
    """Whether this moto has its own ``put_composite_alarm`` (then nothing is installed)."""
    own = CloudWatchResponse.__dict__.get("put_composite_alarm")
    return own is not None and own is not CloudWatchResponse.put_metric_alarm


def install() -> None:
    """Route ``PutCompositeAlarm`` to moto's ``PutMetricAlarm`` handler (idempotent)."""
    if not moto_answers_it():
        CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm  # type: ignore[attr-defined]
