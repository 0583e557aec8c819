"""A tiny client for the running local environment (reads ``.local/state.json``).

    python -m local.client token                      # a fresh speaker token
    python -m local.client speaker [--language en] [--tier standard]
    python -m local.client listener SESSION_ID [--language es]

It follows docs/protocol.md: the first heartbeat at once and then every 30 s, and on
``connectionRefreshRequired`` a refresh (second socket, ``refreshConnection``, then the old one
closes). Messages are printed as they arrive. Ctrl-C leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import urllib.parse
from collections.abc import Sequence

import boto3
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from local.state import LocalEnvironmentMissing, LocalState, read_state
from session_service.protocol import ACTION_FIELD, Action, MessageType, QualityTier, Role


def _state() -> LocalState:
    try:
        return read_state()
    except LocalEnvironmentMissing as missing:
        sys.exit(str(missing))


def fresh_token(state: LocalState) -> str:
    speaker = state.speakers[0]
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=state.endpoint_url,
        region_name=state.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (the emulator's dummy credentials)
    )
    result = cognito.initiate_auth(
        ClientId=state.app_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": speaker.username, "PASSWORD": speaker.password},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def url(state: LocalState, **query: str) -> str:
    return f"{state.websocket_url}?{urllib.parse.urlencode(query)}"


class Participant:
    def __init__(self, state: LocalState, query: dict[str, str], interval: float) -> None:
        self.state = state
        self.query = query
        self.interval = interval
        self.session_id = query.get("sessionId", "")
        creates = query[ACTION_FIELD] == Action.CREATE_SESSION
        self.role = Role.SPEAKER if creates else Role.LISTENER

    async def run(self) -> None:
        ws: ClientConnection | None = await connect(url(self.state, **self.query))
        while ws is not None:
            ws = await self._serve(ws)

    async def _serve(self, ws: ClientConnection) -> ClientConnection | None:
        beat = asyncio.create_task(self._heartbeats(ws))
        try:
            async for raw in ws:
                message = json.loads(raw)
                print(json.dumps(message), flush=True)
                self.session_id = message.get("sessionId", self.session_id)
                if message.get("type") == MessageType.CONNECTION_REFRESH_REQUIRED:
                    return await self._refresh(ws)
                if message.get("type") == MessageType.SESSION_ENDED:
                    return None
        except ConnectionClosed as closed:
            print(f"closed: {closed}", flush=True)
        finally:
            beat.cancel()
        return None

    async def _heartbeats(self, ws: ClientConnection) -> None:
        while True:
            await ws.send(json.dumps({ACTION_FIELD: Action.HEARTBEAT}))
            await asyncio.sleep(self.interval)

    async def _refresh(self, old: ClientConnection) -> ClientConnection:
        query = {
            ACTION_FIELD: Action.REFRESH_CONNECTION,
            "sessionId": self.session_id,
            "role": self.role,
        }
        if self.role == Role.SPEAKER:
            query["token"] = fresh_token(self.state)
        else:
            query["targetLanguage"] = self.query["targetLanguage"]
        new = await connect(url(self.state, **query))
        await new.send(json.dumps({ACTION_FIELD: Action.REFRESH_CONNECTION}))
        print(await new.recv(), flush=True)  # connectionRefreshComplete
        await old.close()
        return new


def refusal_text(refused: InvalidStatus) -> str:
    """A refused handshake as a person reads it: status, the service's reason, when to retry.

    ``make local`` answers a refusal with the error's body and a Retry-After header (API
    Gateway sends the status only: then the status is all there is to show).
    """
    response = refused.response
    text = f"refused: HTTP {response.status_code}"
    try:
        error = json.loads(response.body or b"")
    except ValueError:
        error = None
    if isinstance(error, dict) and error.get("message"):
        text += f" {error.get('code')}: {error['message']}"
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        text += f" (retry after {retry_after} s)"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m local.client")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("token", help="print a fresh speaker token")
    speaker = sub.add_parser(Role.SPEAKER, help="create a session and keep it alive")
    speaker.add_argument("--language", default="en")
    speaker.add_argument("--tier", default=QualityTier.STANDARD, choices=tuple(QualityTier))
    listener = sub.add_parser(Role.LISTENER, help="join a session")
    listener.add_argument("session_id")
    listener.add_argument("--language", default="es")
    for parser in (speaker, listener):
        parser.add_argument("--interval", type=float, default=30.0, help="heartbeat seconds")
    args = p.parse_args(argv)
    state = _state()
    if args.command == "token":
        print(fresh_token(state))
        return 0
    if args.command == Role.SPEAKER:
        query = {
            ACTION_FIELD: Action.CREATE_SESSION,
            "sourceLanguage": args.language,
            "qualityTier": args.tier,
            "token": fresh_token(state),
        }
    else:
        query = {
            ACTION_FIELD: Action.JOIN_SESSION,
            "sessionId": args.session_id,
            "targetLanguage": args.language,
        }
    try:
        asyncio.run(Participant(state, query, args.interval).run())
    except InvalidStatus as refused:
        print(refusal_text(refused), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
