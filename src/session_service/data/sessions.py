"""Sessions and their connections: reads that ignore expired items, and atomic changes.

Every state change is one conditional write or one transaction, so that duplicate and
out-of-order events change nothing twice. SDK failures become the service's own exceptions
or plain outcomes; callers never see a botocore error for an expected condition.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from botocore.exceptions import ClientError

from session_service import constants as c
from session_service.data.dynamo import (
    Item,
    b,
    cancellation_reasons,
    failed,
    failure_item,
    is_condition_failure,
    n,
    plain,
    s,
)
from session_service.data.rate_limits import counter_update
from session_service.exceptions import Forbidden, InvalidAction, SessionFull, SessionNotFound
from session_service.models import Connection, Role, Session

BATCH_WRITE_LIMIT = 25
_BATCH_ATTEMPTS = 5


class EndOutcome(Enum):
    ENDED = "ended"  # this call ended the session
    SUPERSEDED = "superseded"  # a refresh moved the session to another connection, or it ended
    ALREADY_GONE = "already_gone"  # the connection item was already removed


@dataclass(frozen=True)
class HeartbeatOutcome:
    previous: Connection | None  # the item before this heartbeat, when it was recorded
    retry_after_ms: int = 0  # > 0 when refused by the per-connection minimum interval


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


def connection_item(conn: Connection) -> Item:
    item: Item = {
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
        response = self._client.get_item(
            TableName=self._sessions, Key={c.SESSIONS_KEY: s(session_id)}, ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None
        session = to_session(item)
        return session if session.expires_at > now_s else None

    def get_connection(self, connection_id: str, now_s: int) -> Connection | None:
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
        """Write a new session and its speaker connection; False when the id is taken."""
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
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if reasons is None:
                raise
            if failed(reasons, 1):
                raise InvalidAction("this connection already belongs to a session") from None
            if failed(reasons, 0):
                return False
            raise
        return True

    def add_listener(self, conn: Connection, capacity: int, now_s: int) -> None:
        """Register a listener and count it, if the session is live and below ``capacity``."""
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
        self._transact_on_session([self._put_connection(conn), update], now_s, capacity=capacity)

    def move_speaker(self, conn: Connection, new_expires_at: int, now_s: int) -> None:
        """Make ``conn`` the session's speaker connection and extend the session."""
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
        self._transact_on_session(
            [self._put_connection(conn), update], now_s, owner=conn.user_id or ""
        )

    def _transact_on_session(
        self,
        items: list[dict[str, Any]],
        now_s: int,
        *,
        capacity: int | None = None,
        owner: str | None = None,
    ) -> None:
        """Run a connection put + session update; explain a refusal from the session's state."""
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if reasons is None:
                raise
            if failed(reasons, 0):
                raise InvalidAction("this connection already belongs to a session") from None
            if not failed(reasons, 1):
                raise
            old = reasons[1].get("Item")
            session = to_session(old) if old else None
            if session is None or not session.is_live(now_s):
                raise SessionNotFound("the session does not exist or has ended") from None
            if owner is not None and session.speaker_user_id != owner:
                raise Forbidden("only the speaker who created the session may refresh it") from None
            if capacity is not None and session.listener_count >= capacity:
                raise SessionFull(
                    "the session has no free listener seat", {"maxListeners": capacity}
                ) from None
            raise SessionNotFound("the session changed while joining; try again") from None

    # --- liveness ----------------------------------------------------------------------------
    def record_heartbeat(
        self, connection_id: str, now_ms: int, min_interval_ms: int
    ) -> HeartbeatOutcome:
        """One UpdateItem: record the heartbeat unless too soon; returns the previous item."""
        try:
            response = self._client.update_item(
                TableName=self._connections,
                Key={c.CONNECTIONS_KEY: s(connection_id)},
                UpdateExpression="SET lastHeartbeatAt = :now, welcomeSent = :true",
                ConditionExpression=(
                    "attribute_exists(#cid) AND #ttl > :nows AND "
                    "(attribute_not_exists(lastHeartbeatAt) OR lastHeartbeatAt <= :threshold)"
                ),
                ExpressionAttributeNames={
                    "#cid": c.CONNECTIONS_KEY,
                    "#ttl": c.CONNECTIONS_TTL_ATTRIBUTE,
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
    def _delete_connection(self, connection_id: str) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._connections,
                "Key": {c.CONNECTIONS_KEY: s(connection_id)},
                "ConditionExpression": "attribute_exists(#cid)",
                "ExpressionAttributeNames": {"#cid": c.CONNECTIONS_KEY},
            }
        }

    def delete_connection(self, connection_id: str) -> bool:
        """Delete one connection item; True when this call removed it."""
        try:
            self._client.delete_item(**self._delete_connection(connection_id)["Delete"])
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def remove_listener(self, conn: Connection) -> bool:
        """Delete a listener item and uncount it (never below 0); True when this call did."""
        update = {
            "Update": {
                "TableName": self._sessions,
                "Key": {c.SESSIONS_KEY: s(conn.session_id)},
                "UpdateExpression": "ADD listenerCount :minus",
                "ConditionExpression": "attribute_exists(#sid) AND listenerCount > :zero",
                "ExpressionAttributeNames": {"#sid": c.SESSIONS_KEY},
                "ExpressionAttributeValues": {":minus": n(-1), ":zero": n(0)},
            }
        }
        try:
            self._client.transact_write_items(
                TransactItems=[self._delete_connection(conn.connection_id), update]
            )
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if reasons is None:
                raise
            if failed(reasons, 0):
                return False  # a duplicate or a speaker's cleanup removed it first
            if failed(reasons, 1):
                # the session is gone or its count is already 0: remove the item alone
                return self.delete_connection(conn.connection_id)
            raise
        return True

    def end_session(self, speaker: Connection, now_ms: int) -> EndOutcome:
        """Remove the speaker's item; end the session if it still is this connection's."""
        assert self._rate_limits is not None, "ending a session needs the RateLimits table"
        end = {
            "Update": {
                "TableName": self._sessions,
                "Key": {c.SESSIONS_KEY: s(speaker.session_id)},
                "UpdateExpression": "SET isActive = :false, endedAt = :now",
                "ConditionExpression": "isActive = :true AND speakerConnectionId = :cid",
                "ExpressionAttributeValues": {
                    ":false": b(False),
                    ":true": b(True),
                    ":now": n(now_ms),
                    ":cid": s(speaker.connection_id),
                },
            }
        }
        counter = {"Update": counter_update(self._rate_limits, -1)}
        items = [self._delete_connection(speaker.connection_id), end, counter]
        for _ in range(2):
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                reasons = cancellation_reasons(exc)
                if reasons is None:
                    raise
                if failed(reasons, 0):
                    return EndOutcome.ALREADY_GONE
                if failed(reasons, 1):
                    self.delete_connection(speaker.connection_id)
                    return EndOutcome.SUPERSEDED
                if not failed(reasons, 2):
                    raise
                items = items[:2]  # the counter is already 0 (it drifted): end without it
                continue
            return EndOutcome.ENDED
        raise RuntimeError("unreachable: the second attempt has no counter item")

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
                response = self._client.batch_write_item(RequestItems=requests)
                requests = response.get("UnprocessedItems") or {}
                if not requests:
                    break
                time.sleep(0.05 * (2**attempt))
            if requests:
                raise RuntimeError("DynamoDB left connection deletions unprocessed")
