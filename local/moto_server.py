"""moto's server on 127.0.0.1 and a free port, started and stopped in this process."""

from __future__ import annotations

import logging
import socket
import time
import urllib.error
import urllib.request

from moto.server import ThreadedMotoServer

from local import moto_apigatewayv2, moto_cloudwatch, moto_transactions

logger = logging.getLogger(__name__)

# moto's server logs every request through werkzeug at INFO; the local environment's logs are
# about the system, not about each emulated API call.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """moto's threaded server bound to 127.0.0.1; ``port=0`` lets the OS pick a free port."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._requested_port = port
        self._host = host
        self._server: ThreadedMotoServer | None = None
        self.port: int | None = None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("moto server is not started")
        return f"http://{self._host}:{self.port}"

    def start(self) -> str:
        """Start the server and wait until it answers; return its endpoint URL."""
        moto_transactions.install()  # transactions that do not copy whole tables
        moto_apigatewayv2.install()  # get-authorizers, which the checklist's command calls
        moto_cloudwatch.install()  # PutCompositeAlarm: the stack's deployment-health alarm
        self._server = ThreadedMotoServer(
            ip_address=self._host, port=self._requested_port, verbose=False
        )
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        self._wait_until_ready()
        logger.info("moto server listening on %s", self.endpoint)
        return self.endpoint

    def _wait_until_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.endpoint}/moto-api/"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (local http)
                    return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def reset(self) -> None:
        """Forget every emulated resource (moto's reset API)."""
        url = f"{self.endpoint}/moto-api/reset"
        request = urllib.request.Request(url, method="POST")  # noqa: S310 (local http)
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (local http)
            pass

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            logger.info("moto server stopped")

    def shutdown(self) -> None:
        """Reset, then stop: moto's state lives in this process, so none is left behind."""
        if self.port is None:
            return
        try:
            self.reset()
        except OSError:
            logger.debug("moto reset failed", exc_info=True)
        self.stop()
        self.port = None
