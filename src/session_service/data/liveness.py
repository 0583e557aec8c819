"""What the janitor reads: connections by when they were last heard, ends left unfinished, and
the active-sessions figure.

The janitor never scans a table. The Connections table's liveness index holds every connection
under ``role#shard`` sorted by ``heardAt``, so "listeners unheard for 10 minutes" is one Query
per shard that returns only those; the speakers' partitions are read whole, because the
active-sessions figure is counted from them (one small item per active session, never the
listeners). The Sessions table's sweep index holds only sessions whose end is not finished.
The figure is corrected only when two runs in a row found the same drift, because a run's
reads are not one snapshot: a session created between them looks like drift once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from session_service import constants as c
from session_service.data.dynamo import is_condition_failure, n, plain, s, sdk_errors
from session_service.data.rate_limits import ACTIVE_SESSIONS_COUNTER
from session_service.models import ActiveSessionsFigure, Heard, Role, Unswept
from session_service.protocol import EndReason

_DRIFT = "observedDrift"  # on the counter item: the drift the previous run found


class LivenessStore:
    """The liveness and sweep indexes, and the active-sessions counter's correction."""

    def __init__(
        self,
        client: Any,
        sessions_table: str,
        connections_table: str,
        rate_limits_table: str,
        page_size: int = 500,
    ) -> None:
        self._client = client
        self._sessions = sessions_table
        self._connections = connections_table
        self._rate_limits = rate_limits_table
        self._page_size = page_size

    def heard(self, role: Role, shard: int, before_ms: int | None = None) -> Iterator[list[Heard]]:
        """Connections of ``role`` in ``shard``, least recently heard first, one page (one
        request) at a time; with ``before_ms``, only those not heard from since then."""
        condition = "#key = :key"
        values: dict[str, Any] = {":key": s(f"{role.value}#{shard}")}
        if before_ms is not None:
            condition += " AND #heard < :before"
            values[":before"] = n(before_ms)
        kwargs: dict[str, Any] = {
            "TableName": self._connections,
            "IndexName": c.CONNECTIONS_LIVENESS_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {
                "#key": c.CONNECTIONS_LIVENESS_KEY,
                "#heard": c.CONNECTIONS_HEARD_AT,
            },
            "ExpressionAttributeValues": values,
            "Limit": self._page_size,
        }
        if before_ms is None:
            del kwargs["ExpressionAttributeNames"]["#heard"]
        while True:
            with sdk_errors("Query"):
                response = self._client.query(**kwargs)
            yield [_heard(item, role) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def unswept(self, ended_before_ms: int) -> Iterator[list[Unswept]]:
        """Ended sessions whose end is not finished, ended before ``ended_before_ms``."""
        kwargs: dict[str, Any] = {
            "TableName": self._sessions,
            "IndexName": c.SESSIONS_SWEEP_INDEX,
            "KeyConditionExpression": "#sweep = :pending AND #ended < :before",
            "ExpressionAttributeNames": {
                "#sweep": c.SESSIONS_SWEEP_KEY,
                "#ended": c.SESSIONS_ENDED_AT,
            },
            "ExpressionAttributeValues": {
                ":pending": s(c.SWEEP_PENDING),
                ":before": n(ended_before_ms),
            },
            "Limit": self._page_size,
        }
        while True:
            with sdk_errors("Query"):
                response = self._client.query(**kwargs)
            yield [_unswept(item) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def active_sessions_figure(self) -> ActiveSessionsFigure:
        """The counter's value and the drift the previous run observed (one GetItem)."""
        with sdk_errors("GetItem"):
            response = self._client.get_item(
                TableName=self._rate_limits,
                Key={c.RATE_LIMITS_KEY: s(ACTIVE_SESSIONS_COUNTER)},
                ConsistentRead=True,
            )
        item = plain(response.get("Item"))
        return ActiveSessionsFigure(
            count=int(item.get("count", 0)), observed_drift=item.get(_DRIFT)
        )

    def observe_drift(self, drift: int) -> None:
        """Record the drift this run found, for the next run to confirm (one UpdateItem)."""
        with sdk_errors("UpdateItem"):
            self._client.update_item(
                TableName=self._rate_limits,
                Key={c.RATE_LIMITS_KEY: s(ACTIVE_SESSIONS_COUNTER)},
                UpdateExpression="SET #drift = :drift",
                ExpressionAttributeNames={"#drift": _DRIFT},
                ExpressionAttributeValues={":drift": n(drift)},
            )

    def forget_drift(self) -> None:
        """The figure is right again: drop the previous run's observation (one UpdateItem)."""
        with sdk_errors("UpdateItem"):
            self._client.update_item(
                TableName=self._rate_limits,
                Key={c.RATE_LIMITS_KEY: s(ACTIVE_SESSIONS_COUNTER)},
                UpdateExpression="REMOVE #drift",
                ExpressionAttributeNames={"#drift": _DRIFT},
            )

    def correct_count(self, found: int, true_count: int) -> bool:
        """Set the counter from ``found`` to ``true_count`` if nothing changed it since it was
        read; drops the observation. True when this call corrected it (one UpdateItem)."""
        condition = "#count = :found"
        if found == 0:  # a counter never written reads as 0
            condition += " OR attribute_not_exists(#count)"
        with sdk_errors("UpdateItem"):
            try:
                self._client.update_item(
                    TableName=self._rate_limits,
                    Key={c.RATE_LIMITS_KEY: s(ACTIVE_SESSIONS_COUNTER)},
                    UpdateExpression="SET #count = :true REMOVE #drift",
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#count": "count", "#drift": _DRIFT},
                    ExpressionAttributeValues={":true": n(true_count), ":found": n(found)},
                )
            except ClientError as exc:
                if is_condition_failure(exc):
                    return False
                raise
        return True


def _heard(item: dict[str, Any], role: Role) -> Heard:
    v = plain(item)
    return Heard(
        connection_id=v[c.CONNECTIONS_KEY],
        session_id=v.get("sessionId", ""),
        role=role,
        heard_at_ms=int(v.get(c.CONNECTIONS_HEARD_AT, 0)),
    )


def _unswept(item: dict[str, Any]) -> Unswept:
    v = plain(item)
    try:
        reason = EndReason(v.get("endReason", EndReason.SPEAKER_DISCONNECTED.value))
    except ValueError:
        reason = EndReason.SPEAKER_DISCONNECTED
    return Unswept(session_id=v[c.SESSIONS_KEY], reason=reason)
