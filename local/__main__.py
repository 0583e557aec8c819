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
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.config import load_config
from local import profiles
from local.environment import LocalEnvironment
from local.state import STATE_FILE, running_state
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
    p.add_argument(
        "--schedule-period",
        type=float,
        default=None,
        metavar="SECONDS",
        help="run every scheduled rule (the janitor) this often instead of at its rate",
    )
    p.add_argument(
        "--profile",
        choices=sorted(profiles.PROFILES),
        default=profiles.DEFAULT_PROFILE,
        help="the handlers' limits: as deployed (default) or relaxed for testing by hand",
    )
    p.add_argument("--synth", action="store_true", help="synthesize even if up to date")
    p.add_argument("--demo", action="store_true", help="start, verify, print the report, stop")
    p.add_argument("-q", "--quiet", action="store_true", help="hide the handlers' own logs")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="--demo: show what each passing line read"
    )
    return p


# What the demo's terminal keeps out: the handlers' and the gateway's own lines, which would
# interleave with the verification's report. They go to DEMO_LOG, which the report names.
DEMO_LOG = Path("reports") / "local-handlers.log"
_TRAFFIC_LOGGERS = ("lambda", "local.gateway")


class _NotTraffic(logging.Filter):
    """Passes the local system's own lines and every warning; drops request-by-request logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(
            record.name == name or record.name.startswith(f"{name}.") for name in _TRAFFIC_LOGGERS
        )


def configure_logging(quiet: bool, log_file: Path | None = None) -> None:
    """Logs to stderr; with ``log_file``, the traffic logs go to that file only."""
    formatter = logging.Formatter(
        "%(asctime)s %(levelname)-5s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(formatter)
    handlers: list[logging.Handler] = [terminal]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        terminal.addFilter(_NotTraffic())
        to_file = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        to_file.setFormatter(formatter)
        handlers.append(to_file)
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True)
    for noisy in ("websockets", "botocore", "boto3", "urllib3", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if quiet:
        logging.getLogger("lambda").setLevel(logging.WARNING)


def interpreter() -> str:
    """This interpreter as a reader types it from the repository root (``.venv/bin/python``).

    A bare ``python`` is the reader's system interpreter, which lacks the project's packages
    unless the venv is activated: the examples name the venv's interpreter instead.
    """
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(Path.cwd()))
    except ValueError:
        return str(executable)


def limits_note(profile: str) -> str:
    """What the banner says of the per-address limits in effect, and how to lift them."""
    if profile != profiles.DEFAULT_PROFILE:
        return f"Profile {profile}: per-address and per-user limits raised for testing by hand."
    with warnings.catch_warnings():  # the config's own warnings are `make synth`'s to show
        warnings.simplefilter("ignore")
        limits = load_config("local").limits
    return (
        f"Limits as deployed: {limits.connection_attempt_limit_per_minute} connection attempts"
        f" and {limits.listener_join_limit_per_minute} joins a minute per address (every client"
        " here\nis 127.0.0.1); an attempt over them is refused: 429, the reason, Retry-After."
        "\nFor testing by hand: make local PROFILE=relaxed (local/README.md, Limits)."
    )


def banner(env: LocalEnvironment, token: str, profile: str = profiles.DEFAULT_PROFILE) -> str:
    python = interpreter()
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

{limits_note(profile)}

A speaker token (local throwaway, valid 1 hour; `{python} -m local.client token` makes
another). The commands below run as printed from the repository root, no venv to activate:

{token}

Speaker: create a session, then type {{"action":"{Action.HEARTBEAT}"}} at the prompt:
  {python} -m local.client speaker
  {python} -m websockets '{speaker}'

Listener (SESSION_ID from the speaker's {MessageType.SESSION_CREATED} message):
  {python} -m local.client listener SESSION_ID --language es
  {python} -m websockets '{listener}'
"""


def wait_for_interrupt() -> None:
    stop = threading.Event()

    def handle(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    while not stop.wait(1.0):
        pass


def run_demo(env: LocalEnvironment, handler_log: Path = DEMO_LOG, verbose: bool = False) -> int:
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
            "--handler-log",
            str(handler_log),
            *(["--verbose"] if verbose else []),
        ]
    )
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(args.quiet, DEMO_LOG if args.demo else None)
    running = running_state()
    if running is not None and not args.demo:
        logger.error(
            "a local environment already runs (pid %s, %s); stop it first",
            running.pid,
            running.websocket_url,
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
        handler_env_overrides=profiles.overrides(args.profile),
        # A person reads these refusals; the demo's verification sees what AWS would send.
        explain_refusals=not args.demo,
        schedule_period=args.schedule_period,
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
            return run_demo(env, verbose=args.verbose)
        print(banner(env, env.speaker_token(), args.profile), flush=True)
        wait_for_interrupt()
        logger.info("stopping …")
        return 0
    finally:
        env.stop()


if __name__ == "__main__":
    sys.exit(main())
