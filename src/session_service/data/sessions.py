"""Sessions and their connections: reads that ignore expired items, and atomic changes.

Every state change is one conditional write or one transaction, so that duplicate and
out-of-order events change nothing twice. An expected condition becomes a plain outcome or one
of the data layer's own exceptions (:mod:`session_service.data.errors`), which say what the
tables found and leave what it means to a client to the logic; any other SDK failure becomes
:class:`~session_service.data.errors.StoreError`. Callers never see a botocore error.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from session_service import constants as c
from session_service.data.dynamo import (
    Cancelled,
    Item,
    b,
    failure_item,
    is_condition_failure,
    n,
    plain,
    s,
    sdk_errors,
    transact,
)
from session_service.data.errors import ConnectionTaken, SessionRefused, StoreError
from session_service.data.rate_limits import counter_update
from session_service.models import Connection, EndOutcome, Heard, HeartbeatOutcome, Role, Session
from session_service.protocol import EndReason

BATCH_WRITE_LIMIT = 25
_BATCH_ATTEMPTS = 5


def session_item(session: Session) -> Item:
    return {
        c.SESSIONS_KEY: s(session.session_id),
        "speakerConnectionId": s(session.speaker_connection_id),
        "speakerUserId": s(session.speaker_user_id),
        "sourceLanguage": s(session.source_language),
        "qualityTier": s(session.quality_tier),
        "createdAt": n(session.created_at_ms),
        "isActive": b(session.is_active),
        "listenerCount": n(session.listener_count),
        c.SESSIONS_TTL_ATTRIBUTE: n(session.expires_at),
    }


def to_session(item: Item) -> Session:
    v = plain(item)
    return Session(
        session_id=v[c.SESSIONS_KEY],
        speaker_connection_id=v.get("speakerConnectionId", ""),
        speaker_user_id=v.get("speakerUserId", ""),
        source_language=v.get("sourceLanguage", ""),
        quality_tier=v.get("qualityTier", ""),
        created_at_ms=v.get("createdAt", 0),
        is_active=v.get("isActive", False),
        listener_count=v.get("listenerCount", 0),
        expires_at=v.get(c.SESSIONS_TTL_ATTRIBUTE, 0),
    )


def liveness_key(role: Role, connection_id: str) -> str:
    """The liveness index partition of a connection: its role and a shard of its id."""
    shard = zlib.crc32(connection_id.encode()) % c.LIVENESS_SHARDS
    return f"{role.value}#{shard}"


def connection_item(conn: Connection) -> Item:
    item: Item = {
        # heard when opened; each heartbeat sets it again (the liveness index's sort key)
        c.CONNECTIONS_HEARD_AT: n(conn.connected_at_ms),
        c.CONNECTIONS_LIVENESS_KEY: s(liveness_key(conn.role, conn.connection_id)),
        c.CONNECTIONS_KEY: s(conn.connection_id),
        "sessionId": s(conn.session_id),
        "role": s(conn.role.value),
        "sourceLanguage": s(conn.source_language),
        "connectedAt": n(conn.connected_at_ms),
        c.CONNECTIONS_TTL_ATTRIBUTE: n(conn.ttl),
        "isRefresh": b(conn.is_refresh),
        "welcomeSent": b(conn.welcome_sent),
    }
    if conn.target_language is not None:
        item[c.CONNECTIONS_GSI_SORT_KEY] = s(conn.target_language)
    if conn.user_id is not None:
        item["userId"] = s(conn.user_id)
    if conn.quality_tier is not None:
        item["qualityTier"] = s(conn.quality_tier)
    return item


def to_connection(item: Item) -> Connection:
    v = plain(item)
    return Connection(
        connection_id=v[c.CONNECTIONS_KEY],
        session_id=v.get("sessionId", ""),
        role=Role(v.get("role", Role.LISTENER.value)),
        source_language=v.get("sourceLanguage", ""),
        connected_at_ms=v.get("connectedAt", 0),
        ttl=v.get(c.CONNECTIONS_TTL_ATTRIBUTE, 0),
        target_language=v.get(c.CONNECTIONS_GSI_SORT_KEY),
        user_id=v.get("userId"),
        quality_tier=v.get("qualityTier"),
        is_refresh=v.get("isRefresh", False),
        welcome_sent=v.get("welcomeSent", False),
        refresh_notified=v.get("refreshNotified", False),
        warning_notified=v.get("warningNotified", False),
        last_heartbeat_at_ms=v.get("lastHeartbeatAt"),
    )


class SessionStore:
    """Sessions and Connections tables (and the active-sessions counter when ending one)."""

    def __init__(
        self,
        client: Any,
        sessions_table: str,
        connections_table: str,
        rate_limits_table: str | None = None,
    ) -> None:
        self._client = client
        self._sessions = sessions_table
        self._connections = connections_table
        self._rate_limits = rate_limits_table

    # --- reads (items whose TTL has passed count as absent) ---------------------------------
    def get_session(self, session_id: str, now_s: int) -> Session | None:
        with sdk_errors("GetItem"):
            response = self._client.get_item(
                TableName=self._sessions, Key={c.SESSIONS_KEY: s(session_id)}, ConsistentRead=True
            )
        item = response.get("Item")
        if not item:
            return None
        session = to_session(item)
        return session if session.expires_at > now_s else None

    def get_connection(self, connection_id: str, now_s: int) -> Connection | None:
        with sdk_errors("GetItem"):
            response = self._client.get_item(
                TableName=self._connections,
                Key={c.CONNECTIONS_KEY: s(connection_id)},
                ConsistentRead=True,
            )
        item = response.get("Item")
        if not item:
            return None
        conn = to_connection(item)
        return conn if conn.ttl > now_s else None

    def listener_pages(self, session_id: str) -> Iterator[list[Connection]]:
        """The listeners of a session from the GSI, one page (one request) at a time."""
        kwargs: dict[str, Any] = {
            "TableName": self._connections,
            "IndexName": c.CONNECTIONS_GSI_NAME,
            "KeyConditionExpression": "#sid = :sid",
            "ExpressionAttributeNames": {"#sid": c.CONNECTIONS_GSI_PARTITION_KEY},
            "ExpressionAttributeValues": {":sid": s(session_id)},
        }
        while True:
            with sdk_errors("Query"):
                response = self._client.query(**kwargs)
            yield [to_connection(item) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    # --- creation ----------------------------------------------------------------------------
    def _put_connection(self, conn: Connection) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._connections,
                "Item": connection_item(conn),
                "ConditionExpression": "attribute_not_exists(#cid)",
                "ExpressionAttributeNames": {"#cid": c.CONNECTIONS_KEY},
            }
        }

    def create_session(self, session: Session, speaker: Connection) -> bool:
        """Write a new session and its speaker connection; False when the id is taken.

        Raises :class:`ConnectionTaken` when the connection already has an item.
        """
        items = [
            {
                "Put": {
                    "TableName": self._sessions,
                    "Item": session_item(session),
                    "ConditionExpression": "attribute_not_exists(#sid)",
                    "ExpressionAttributeNames": {"#sid": c.SESSIONS_KEY},
                }
            },
            self._put_connection(speaker),
        ]
        cancelled = transact(self._client, items)
        if cancelled is None:
            return True
        if cancelled.failed(1):
            raise ConnectionTaken(speaker.connection_id)
        return False  # the session id is taken

    def add_listener(
        self,
        conn: Connection,
        capacity: int,
        now_s: int,
        speaker_connection_id: str,
        heard_after_ms: int,
    ) -> None:
        """Register a listener and count it, if the session is live and below ``capacity`` and
        its speaker was heard after ``heard_after_ms``.

        The speaker's liveness is a ConditionCheck on its connection item inside the same
        transaction, so a join still costs one write request: a heartbeat or the connection's
        opening (create, refresh) after ``heard_after_ms`` passes. Raises
        :class:`ConnectionTaken` when the connection already has an item, and
        :class:`SessionRefused` (with the session as found) when the session is not live or
        full, or with no session when its speaker has gone silent or its item is gone.
        """
        update = {
            "Update": {
                "TableName": self._sessions,
                "Key": {c.SESSIONS_KEY: s(conn.session_id)},
                "UpdateExpression": "ADD listenerCount :one",
                "ConditionExpression": (
                    "isActive = :true AND listenerCount < :cap AND #exp > :now"
                ),
                "ExpressionAttributeNames": {"#exp": c.SESSIONS_TTL_ATTRIBUTE},
                "ExpressionAttributeValues": {
                    ":one": n(1),
                    ":true": b(True),
                    ":cap": n(capacity),
                    ":now": n(now_s),
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        speaker_heard = {
            "ConditionCheck": {
                "TableName": self._connections,
                "Key": {c.CONNECTIONS_KEY: s(speaker_connection_id)},
                "ConditionExpression": (
                    "attribute_exists(#cid) AND "
                    "(lastHeartbeatAt > :since OR connectedAt > :since)"
                ),
                "ExpressionAttributeNames": {"#cid": c.CONNECTIONS_KEY},
                "ExpressionAttributeValues": {":since": n(heard_after_ms)},
            }
        }
        items = [self._put_connection(conn), update, speaker_heard]
        cancelled = transact(self._client, items)
        if cancelled is None:
            return
        if cancelled.failed(0):
            raise ConnectionTaken(conn.connection_id)
        if cancelled.failed(1):
            old = cancelled.old_item(1)
            raise SessionRefused(to_session(old) if old else None)
        raise SessionRefused(None)  # the speaker is silent: the session has lost it

    def move_speaker(self, conn: Connection, new_expires_at: int, now_s: int) -> None:
        """Make ``conn`` the session's speaker connection and extend the session.

        Raises :class:`ConnectionTaken` when the connection already has an item, and
        :class:`SessionRefused` (with the session as found) when the session is not live or
        belongs to another user.
        """
        update = {
            "Update": {
                "TableName": self._sessions,
                "Key": {c.SESSIONS_KEY: s(conn.session_id)},
                "UpdateExpression": "SET speakerConnectionId = :cid, #exp = :newexp",
                "ConditionExpression": "isActive = :true AND #exp > :now AND speakerUserId = :uid",
                "ExpressionAttributeNames": {"#exp": c.SESSIONS_TTL_ATTRIBUTE},
                "ExpressionAttributeValues": {
                    ":cid": s(conn.connection_id),
                    ":newexp": n(new_expires_at),
                    ":true": b(True),
                    ":now": n(now_s),
                    ":uid": s(conn.user_id or ""),
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        self._transact_on_session([self._put_connection(conn), update], conn.connection_id)

    def _transact_on_session(self, items: list[dict[str, Any]], connection_id: str) -> None:
        """Run a connection put + session update; a refusal says which item and what it found."""
        cancelled = transact(self._client, items)
        if cancelled is None:
            return
        if cancelled.failed(0):
            raise ConnectionTaken(connection_id)
        old = cancelled.old_item(1)
        raise SessionRefused(to_session(old) if old else None)

    # --- liveness ----------------------------------------------------------------------------
    def record_heartbeat(
        self, connection_id: str, now_ms: int, min_interval_ms: int
    ) -> HeartbeatOutcome:
        """One UpdateItem: record the heartbeat unless too soon; returns the previous item."""
        with sdk_errors("UpdateItem"):
            return self._record_heartbeat(connection_id, now_ms, min_interval_ms)

    def _record_heartbeat(
        self, connection_id: str, now_ms: int, min_interval_ms: int
    ) -> HeartbeatOutcome:
        try:
            response = self._client.update_item(
                TableName=self._connections,
                Key={c.CONNECTIONS_KEY: s(connection_id)},
                UpdateExpression="SET lastHeartbeatAt = :now, #heard = :now, welcomeSent = :true",
                ConditionExpression=(
                    "attribute_exists(#cid) AND #ttl > :nows AND "
                    "(attribute_not_exists(lastHeartbeatAt) OR lastHeartbeatAt <= :threshold)"
                ),
                ExpressionAttributeNames={
                    "#cid": c.CONNECTIONS_KEY,
                    "#ttl": c.CONNECTIONS_TTL_ATTRIBUTE,
                    "#heard": c.CONNECTIONS_HEARD_AT,
                },
                ExpressionAttributeValues={
                    ":now": n(now_ms),
                    ":true": b(True),
                    ":nows": n(now_ms // 1000),
                    ":threshold": n(now_ms - min_interval_ms),
                },
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old = failure_item(exc)
            if old is None:
                return HeartbeatOutcome(previous=None)
            conn = to_connection(old)
            if conn.ttl <= now_ms // 1000 or conn.last_heartbeat_at_ms is None:
                return HeartbeatOutcome(previous=None)
            wait = conn.last_heartbeat_at_ms + min_interval_ms - now_ms
            return HeartbeatOutcome(previous=conn, retry_after_ms=max(1, wait))
        return HeartbeatOutcome(previous=to_connection(response["Attributes"]))

    def mark_once(self, connection_id: str, flag: str) -> bool:
        """Set boolean ``flag`` on a connection; True only for the call that set it."""
        with sdk_errors("UpdateItem"):
            try:
                self._client.update_item(
                    TableName=self._connections,
                    Key={c.CONNECTIONS_KEY: s(connection_id)},
                    UpdateExpression="SET #flag = :true",
                    ConditionExpression="attribute_exists(#cid) AND attribute_not_exists(#flag)",
                    ExpressionAttributeNames={"#cid": c.CONNECTIONS_KEY, "#flag": flag},
                    ExpressionAttributeValues={":true": b(True)},
                )
            except ClientError as exc:
                if is_condition_failure(exc):
                    return False
                raise
        return True

    # --- removal -----------------------------------------------------------------------------
    def _delete_connection(
        self, connection_id: str, heard_before_ms: int | None = None
    ) -> dict[str, Any]:
        """Delete a connection item that exists and, with ``heard_before_ms``, that has not
        been heard from since: the janitor's removals lose to a heartbeat that came in time."""
        delete: dict[str, Any] = {
            "TableName": self._connections,
            "Key": {c.CONNECTIONS_KEY: s(connection_id)},
            "ConditionExpression": "attribute_exists(#cid)",
            "ExpressionAttributeNames": {"#cid": c.CONNECTIONS_KEY},
        }
        if heard_before_ms is not None:
            delete["ConditionExpression"] += " AND #heard < :before"
            delete["ExpressionAttributeNames"]["#heard"] = c.CONNECTIONS_HEARD_AT
            delete["ExpressionAttributeValues"] = {":before": n(heard_before_ms)}
        return {"Delete": delete}

    def delete_connection(self, connection_id: str, heard_before_ms: int | None = None) -> bool:
        """Delete one connection item; True when this call removed it."""
        delete = self._delete_connection(connection_id, heard_before_ms)["Delete"]
        with sdk_errors("DeleteItem"):
            try:
                self._client.delete_item(**delete)
            except ClientError as exc:
                if is_condition_failure(exc):
                    return False
                raise
        return True

    def remove_listener(self, conn: Connection, heard_before_ms: int | None = None) -> bool:
        """Delete a listener item and uncount it (never below 0); True when this call did.

        With ``heard_before_ms`` (the janitor), only a listener not heard from since then.
        """
        return self.remove_listener_item(conn.connection_id, conn.session_id, heard_before_ms)

    def remove_listener_item(
        self, connection_id: str, session_id: str, heard_before_ms: int | None = None
    ) -> bool:
        """:meth:`remove_listener` by ids (what the liveness index holds of a connection)."""
        update = {
            "Update": {
                "TableName": self._sessions,
                "Key": {c.SESSIONS_KEY: s(session_id)},
                "UpdateExpression": "ADD listenerCount :minus",
                "ConditionExpression": "attribute_exists(#sid) AND listenerCount > :zero",
                "ExpressionAttributeNames": {"#sid": c.SESSIONS_KEY},
                "ExpressionAttributeValues": {":minus": n(-1), ":zero": n(0)},
            }
        }
        delete = self._delete_connection(connection_id, heard_before_ms)
        cancelled = transact(self._client, [delete, update])
        if cancelled is None:
            return True
        if cancelled.failed(0):
            return False  # a duplicate, a speaker's cleanup or a heartbeat came first
        # the session is gone or its count is already 0: remove the item alone
        return self.delete_connection(connection_id, heard_before_ms)

    def end_session(
        self,
        speaker: Connection | Heard,
        now_ms: int,
        reason: EndReason = EndReason.SPEAKER_DISCONNECTED,
        heard_before_ms: int | None = None,
    ) -> EndOutcome:
        """Remove the speaker's item; end the session if it still is this connection's.

        The ended session is marked for the sweep (``sweep``, sorted by ``endedAt``, with its
        ``endReason``) until its listeners are told, so an end whose fan-out dies is finished by
        the janitor. With ``heard_before_ms`` (the janitor), only a speaker not heard from since
        then: one that heartbeats in time keeps its session (``ALREADY_GONE``).
        """
        assert self._rate_limits is not None, "ending a session needs the RateLimits table"
        end = {
            "Update": {
                "TableName": self._sessions,
                "Key": {c.SESSIONS_KEY: s(speaker.session_id)},
                # Its listeners' items go with it, so its count is 0 (their own $disconnects
                # then find the count at 0 and remove only their items).
                "UpdateExpression": (
                    "SET isActive = :false, #ended = :now, listenerCount = :zero, "
                    "#sweep = :pending, endReason = :reason"
                ),
                "ConditionExpression": "isActive = :true AND speakerConnectionId = :cid",
                "ExpressionAttributeNames": {
                    "#ended": c.SESSIONS_ENDED_AT,
                    "#sweep": c.SESSIONS_SWEEP_KEY,
                },
                "ExpressionAttributeValues": {
                    ":false": b(False),
                    ":true": b(True),
                    ":now": n(now_ms),
                    ":cid": s(speaker.connection_id),
                    ":zero": n(0),
                    ":pending": s(c.SWEEP_PENDING),
                    ":reason": s(reason.value),
                },
            }
        }
        counter = {"Update": counter_update(self._rate_limits, -1)}
        items = [self._delete_connection(speaker.connection_id, heard_before_ms), end, counter]
        cancelled: Cancelled | None = transact(self._client, items)
        if cancelled is not None and not cancelled.failed(0) and not cancelled.failed(1):
            # only the counter refused: it is already 0 (it drifted), so end without it
            cancelled = transact(self._client, items[:2])
        if cancelled is None:
            return EndOutcome.ENDED
        if cancelled.failed(0):
            return EndOutcome.ALREADY_GONE
        self.delete_connection(speaker.connection_id, heard_before_ms)
        return EndOutcome.SUPERSEDED

    def finish_end(self, session_id: str) -> bool:
        """Unmark an ended session whose listeners have all been told; True when this call did."""
        with sdk_errors("UpdateItem"):
            try:
                self._client.update_item(
                    TableName=self._sessions,
                    Key={c.SESSIONS_KEY: s(session_id)},
                    UpdateExpression="REMOVE #sweep",
                    ConditionExpression="attribute_exists(#sweep)",
                    ExpressionAttributeNames={"#sweep": c.SESSIONS_SWEEP_KEY},
                )
            except ClientError as exc:
                if is_condition_failure(exc):
                    return False
                raise
        return True

    def delete_connections(self, connection_ids: list[str]) -> None:
        """Delete items in batches of 25 (one request each), retrying unprocessed ones."""
        for start in range(0, len(connection_ids), BATCH_WRITE_LIMIT):
            chunk = connection_ids[start : start + BATCH_WRITE_LIMIT]
            requests: dict[str, Any] = {
                self._connections: [
                    {"DeleteRequest": {"Key": {c.CONNECTIONS_KEY: s(cid)}}} for cid in chunk
                ]
            }
            for attempt in range(_BATCH_ATTEMPTS):
                with sdk_errors("BatchWriteItem"):
                    response = self._client.batch_write_item(RequestItems=requests)
                requests = response.get("UnprocessedItems") or {}
                if not requests:
                    break
                time.sleep(0.05 * (2**attempt))
            if requests:
                raise StoreError("DynamoDB left connection deletions unprocessed")
