"""What every handler shares: clients made once per container, event parsing, and the one
place where a :class:`ServiceError` becomes an answer.

- `$connect`: ``{"statusCode": 200}`` or ``{"statusCode": status, "body": <error message>}``;
  API Gateway fails the handshake with that status.
- message routes (heartbeat, refreshConnection): the ``error`` message is posted to the caller
  and the handler returns ``{"statusCode": 200}``. API Gateway sends nothing from a route's
  return value unless a route response is configured, so the post is how the client learns.
- ``$default`` (messages that match no route: malformed JSON, no or an unknown action) reaches the
  heartbeat function; :func:`message_body` refuses it (``INVALID_PARAMETERS`` for a body that is
  not a JSON object, else ``INVALID_ACTION``) before any work, so nothing is written.

A refusal (a :class:`ServiceError`) is expected: it is logged as one structured line (code,
status, route, action, the hashed connection id; never a token) at INFO. Anything else is
unexpected: it is logged with its traceback and answered as ``INTERNAL_ERROR``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from session_service import constants as c
from session_service import messages
from session_service.exceptions import (
    InternalError,
    InvalidAction,
    InvalidParameters,
    ServiceError,
)
from session_service.models import Caller
from session_service.observability import Telemetry, hash_id, logger
from session_service.protocol import ACTION_FIELD, CONNECT_ROUTE, DEFAULT_ROUTE, MESSAGE_ACTIONS

Clock = Callable[[], float]
_CONNECT_TIMEOUT = 2
_READ_TIMEOUT = 5


def _config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=_CONNECT_TIMEOUT,
        read_timeout=_READ_TIMEOUT,
        retries={"max_attempts": 3, "mode": "standard"},
    )


def dynamodb_client(region: str) -> Any:
    import boto3

    return boto3.client("dynamodb", region_name=region, config=_config())


def management_client(callback_url: str, region: str) -> Any:
    import boto3

    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=callback_url,
        region_name=region,
        config=_config(),
    )


def default_clock() -> float:
    return time.time()


# --- events --------------------------------------------------------------------------------
def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def query_parameters(event: Any) -> dict[str, str]:
    """The query string of a `$connect` (string values only)."""
    params = _mapping(_mapping(event).get("queryStringParameters"))
    return {str(k): v for k, v in params.items() if isinstance(v, str)}


def _as_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _as_int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError, OverflowError):
        return 0


def caller(event: Any) -> Caller:
    """Connection, authorizer context and source address of a request."""
    context = _mapping(_mapping(event).get("requestContext"))
    authorizer = _mapping(context.get("authorizer"))
    source_ip = _mapping(context.get("identity")).get("sourceIp")
    connection_id = context.get("connectionId")
    user_id = authorizer.get("userId")
    return Caller(
        connection_id=connection_id if isinstance(connection_id, str) else "",
        user_id=user_id if isinstance(user_id, str) else "",
        source_ip=source_ip if isinstance(source_ip, str) else "",
        rate_limited=_as_bool(authorizer.get("rateLimited")),
        retry_after=_as_int(authorizer.get("retryAfter")),
    )


def message_body(event: Any, route: str) -> dict[str, Any]:
    """The JSON object a client sent on a message route; its action must be ``route``.

    A message API Gateway routed to ``$default`` (``requestContext.routeKey``) matched no
    route: it is refused whatever its action says, so a handler serving ``$default`` never
    does the work of its own route.
    """
    event = _mapping(event)
    route_key = _mapping(event.get("requestContext")).get("routeKey")
    if route_key == DEFAULT_ROUTE:
        data = _json_object(event, MESSAGE_ACTIONS[0])
        raise InvalidAction(
            f"{_described(data.get(ACTION_FIELD), 'unknown')}; expected one of "
            + ", ".join(MESSAGE_ACTIONS),
            {"expected": list(MESSAGE_ACTIONS)},
        )
    data = _json_object(event, route)
    action = data.get(ACTION_FIELD)
    if action != route:
        raise InvalidAction(
            f"{_described(action, 'this route does not handle')}; expected {route!r}",
            {"expected": route},
        )
    return data


def _described(action: Any, unknown: str) -> str:
    """What is wrong with a message's action, in words (a string is shown cut short)."""
    if action is None:
        return "the message has no action"
    if not isinstance(action, str):
        return "the message's action is not a string"
    return f"{unknown} action {action[:40]!r}"


def shown_action(value: Any) -> str | None:
    """An action as a log line may carry it: a string cut short, else nothing."""
    return value[:40] if isinstance(value, str) and value else None


def _loaded(event: Mapping[str, Any]) -> Any:
    """The message body as JSON (base64 decoded when so flagged); None when it is not JSON."""
    body = event.get("body")
    if isinstance(body, str) and _as_bool(event.get("isBase64Encoded")):
        try:
            body = base64.b64decode(body, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            body = None
    try:
        return json.loads(body) if isinstance(body, str) else None
    except ValueError:
        return None


def _json_object(event: Mapping[str, Any], route: str) -> dict[str, Any]:
    """The message body as a JSON object, or :class:`InvalidParameters`."""
    expected = "a JSON object such as " + json.dumps({ACTION_FIELD: route}, separators=(",", ":"))
    data = _loaded(event)
    if not isinstance(data, dict):
        raise InvalidParameters(f"the message is not {expected}", {"expected": expected})
    return data


def log_context(who: Caller, route: str, action: str | None, context: Any) -> None:
    """The keys every line of this invocation carries (the connection id hashed)."""
    logger.append_keys(
        route=route,
        action=action,
        connection=hash_id(who.connection_id) if who.connection_id else None,
        request_id=getattr(context, "aws_request_id", None),
    )


def log_refusal(message: str, exc: ServiceError) -> None:
    """An expected refusal: one INFO line with its code, status, reason and details."""
    logger.info(
        message,
        stacklevel=3,  # the location is the caller's, not this helper's
        extra={
            "code": exc.code,
            "status": exc.status,
            "reason": exc.message,
            "details": exc.details,
        },
    )


def _refusal(exc: BaseException, telemetry: Telemetry) -> ServiceError:
    if isinstance(exc, ServiceError):
        log_refusal("request refused", exc)
        refusal = exc
    else:
        logger.exception("unexpected failure")
        refusal = InternalError("the service failed to handle the request; try again")
    telemetry.count(c.METRIC_CONNECTION_ERRORS)
    return refusal


# --- answers -------------------------------------------------------------------------------
def answer_connect(
    event: Any, context: Any, work: Callable[[Caller], None], telemetry: Telemetry, clock: Clock
) -> dict[str, Any]:
    who = caller(event)
    log_context(
        who, CONNECT_ROUTE, shown_action(query_parameters(event).get(ACTION_FIELD)), context
    )
    try:
        if not who.connection_id:
            raise InvalidParameters("the request carries no connection id")
        work(who)
        return {"statusCode": 200}
    except Exception as exc:
        refusal = _refusal(exc, telemetry)
        body = json.dumps(messages.error(refusal, int(clock() * 1000)))
        return {"statusCode": refusal.status, "body": body}
    finally:
        telemetry.flush()


def answer_message(
    event: Any,
    context: Any,
    route: str,
    work: Callable[[Caller], None],
    post: Callable[[str, messages.Message], bool],
    telemetry: Telemetry,
    clock: Clock,
) -> dict[str, Any]:
    who = caller(event)
    route_key = _mapping(_mapping(event).get("requestContext")).get("routeKey")
    if route_key == DEFAULT_ROUTE:
        body = _mapping(_loaded(_mapping(event)))
        log_context(who, DEFAULT_ROUTE, shown_action(body.get(ACTION_FIELD)), context)
    else:
        log_context(who, route, route, context)
    try:
        if not who.connection_id:
            raise InvalidParameters("the request carries no connection id")
        message_body(event, route)
        work(who)
        return {"statusCode": 200}
    except Exception as exc:
        refusal = _refusal(exc, telemetry)
        error = messages.error(refusal, int(clock() * 1000))
        delivered = False
        if who.connection_id:
            try:
                delivered = post(who.connection_id, error)
            except Exception:
                logger.exception("could not deliver the error message")
        if delivered:
            return {"statusCode": 200}
        return {"statusCode": refusal.status, "body": json.dumps(error)}
    finally:
        telemetry.flush()
