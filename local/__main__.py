"""``python -m local`` (``make local``): run the whole system on this machine until Ctrl-C.

``python -m local --demo`` (``make demo``): start it, verify it against the deployment checklist
(``python -m ci.verify --env local --endpoint-url …``), print the report, stop, exit with the
verification's status.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from local.environment import STATE_FILE, LocalEnvironment, read_state
from session_service.protocol import Action, MessageType, QualityTier

logger = logging.getLogger("local")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m local",
        description="Run the session service locally: moto, the deployed stack, a local gateway.",
    )
    p.add_argument("--port", type=int, default=0, help="WebSocket port (default: a free one)")
    p.add_argument("--moto-port", type=int, default=0, help="emulator port (default: free)")
    p.add_argument(
        "--management-port", type=int, default=0, help="@connections API port (default: free)"
    )
    p.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        help="close idle sockets after this many seconds (API Gateway: 600)",
    )
    p.add_argument(
        "--max-duration",
        type=float,
        default=None,
        help="close every socket after this many seconds (API Gateway: 7200)",
    )
    p.add_argument("--synth", action="store_true", help="synthesize even if up to date")
    p.add_argument("--demo", action="store_true", help="start, verify, print the report, stop")
    p.add_argument("-q", "--quiet", action="store_true", help="hide the handlers' own logs")
    return p


def configure_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)-5s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("websockets", "botocore", "boto3", "urllib3", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if quiet:
        logging.getLogger("lambda").setLevel(logging.WARNING)


def banner(env: LocalEnvironment, token: str) -> str:
    stage_url = env.endpoint
    speaker = (
        f"{stage_url}?action={Action.CREATE_SESSION}&sourceLanguage=en"
        f"&qualityTier={QualityTier.STANDARD}&token={token}"
    )
    listener = f"{stage_url}?action={Action.JOIN_SESSION}&sessionId=SESSION_ID&targetLanguage=es"
    assert env.user_pool is not None
    return f"""
Session service running locally (started in {env.started_in or 0:.1f} s). Ctrl-C stops it.

  WebSocket endpoint   {env.endpoint}
  @connections API     {env.callback_url}
  AWS emulator (moto)  {env.moto_endpoint}   (AWS_ENDPOINT_URL for the aws CLI / boto3)
  Cognito user pool    {env.user_pool.pool_id}   app client {env.user_pool.client_id}
  State file           {STATE_FILE} (for `make verify ENV=local`)

A speaker token (local throwaway, valid 1 hour; `python -m local.client token` makes another):

{token}

Speaker: create a session, then type {{"action":"{Action.HEARTBEAT}"}} at the prompt:
  python -m local.client speaker
  python -m websockets '{speaker}'

Listener (SESSION_ID from the speaker's {MessageType.SESSION_CREATED} message):
  python -m local.client listener SESSION_ID --language es
  python -m websockets '{listener}'
"""


def wait_for_interrupt() -> None:
    stop = threading.Event()

    def handle(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    while not stop.wait(1.0):
        pass


def run_demo(env: LocalEnvironment) -> int:
    if importlib.util.find_spec("ci.verify") is None:
        logger.error("ci.verify is not available: nothing to verify the deployment with")
        return 2
    from ci import verify

    status: int = verify.main(
        [
            "--env",
            "local",
            "--endpoint-url",
            env.moto_endpoint,
            "--websocket-url",
            env.endpoint,
            "--region",
            env.region,
        ]
    )
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(args.quiet)
    running = read_state()
    if running is not None and not args.demo:
        logger.error(
            "a local environment already runs (pid %s, %s); stop it first",
            running.get("pid"),
            running.get("websocketEndpoint"),
        )
        return 1
    env = LocalEnvironment(
        port=args.port,
        moto_port=args.moto_port,
        management_port=args.management_port,
        idle_timeout=args.idle_timeout,
        max_duration=args.max_duration,
        force_synth=args.synth,
        state_file=None if args.demo else STATE_FILE,
    )
    try:
        env.start()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        logger.error("the local environment did not start: %s", exc)
        return 1
    try:
        if args.demo:
            return run_demo(env)
        print(banner(env, env.speaker_token()), flush=True)
        wait_for_interrupt()
        logger.info("stopping …")
        return 0
    finally:
        env.stop()


if __name__ == "__main__":
    sys.exit(main())
