"""The whole system on one machine: :class:`LocalEnvironment`.

``start()``: moto's server on 127.0.0.1, in a process of its own; a Cognito user pool and app
client in it; the synthesized ``SessionManagement-local`` template (with those ids) deployed into
it; one worker pool per deployed function, with the environment the deployment gives that
function; the local gateway serving the deployed API's routes, integrations and authorizer; the
scheduler running the stack's scheduled rules (the janitor) through the same function runtimes.
``stop()`` undoes it all.

moto's server runs in its own process (``MotoServer(separate_process=True)``, see
:mod:`local.moto_server`): nothing of moto's request handling shares the interpreter of the
gateway and the scheduler, so what is measured or observed here (``make bench``, the e2e tests)
is the gateway's own work, and the environment reaches moto over HTTP only, as the handlers do.
(``local.pipeline_aws.PipelineAws`` keeps moto in its process: it acts on moto's backends.)

    with LocalEnvironment() as env:
        print(env.endpoint, env.speaker_token())
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local import cognito
from local.deploy import Clients, deploy_stack, make_session
from local.gateway import Gateway
from local.moto_server import MotoServer
from local.runtime import FunctionRuntime
from local.scheduler import Scheduler, stack_rules
from local.served_stack import ServedStack, ServeSettings
from local.state import LocalState, Speaker, write_state
from local.template import CLOUD_ASSEMBLY, STACK_NAME, load_template, synthesize

logger = logging.getLogger(__name__)

REGION = "us-east-1"


class LocalEnvironment:
    """moto + the deployed stack + the local gateway, started and stopped together.

    Test-only: ``handler_env_overrides`` replaces environment variables of every function (e.g.
    ``{"MAX_LISTENERS_PER_SESSION": "3"}``) when the local runtime starts it; the deployed
    function configurations keep the template's values. ``schedule_period`` (seconds) runs every
    scheduled rule that often instead of at its rate (``rate(1 minute)`` for the janitor).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        moto_port: int = 0,
        management_port: int = 0,
        idle_timeout: float | None = None,
        max_duration: float | None = None,
        handler_env_overrides: Mapping[str, str] | None = None,
        cloud_assembly: Path = CLOUD_ASSEMBLY,
        force_synth: bool = False,
        state_file: Path | None = None,
        max_concurrency: int = 8,
        explain_refusals: bool = False,
        schedule_period: float | None = None,
    ) -> None:
        self._port = port
        self._management_port = management_port
        self._idle_timeout = idle_timeout
        self._max_duration = max_duration
        self._overrides = dict(handler_env_overrides or {})
        self._cloud_assembly = cloud_assembly
        self._force_synth = force_synth
        self._state_file = state_file
        self._max_concurrency = max_concurrency
        self._explain_refusals = explain_refusals
        self._schedule_period = schedule_period
        self.scheduler: Scheduler | None = None
        self.region = REGION
        self.stack_name = STACK_NAME
        self.moto = MotoServer(port=moto_port, separate_process=True)
        self.served: ServedStack | None = None
        self.outputs: dict[str, str] = {}
        self.user_pool: cognito.UserPool | None = None
        self._clients: Clients | None = None
        self._users: dict[str, cognito.TestUser] = {}
        self.started_in: float | None = None

    # --- addresses ----------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """``ws://127.0.0.1:PORT/{stage}``: where clients connect."""
        return self._gateway().endpoint

    @property
    def callback_url(self) -> str:
        """The local @connections API, what the handlers' ``CALLBACK_URL`` points at."""
        return self._gateway().callback_url

    @property
    def moto_endpoint(self) -> str:
        return self.moto.endpoint

    @property
    def gateway(self) -> Gateway | None:
        return self.served.gateway if self.served is not None else None

    @property
    def runtimes(self) -> dict[str, FunctionRuntime]:
        return self.served.runtimes if self.served is not None else {}

    def _gateway(self) -> Gateway:
        if self.gateway is None:
            raise RuntimeError("the local environment is not started")
        return self.gateway

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` in the emulator."""
        if self._clients is None:
            raise RuntimeError("the local environment is not started")
        return self._clients(service)

    # --- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> LocalEnvironment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalEnvironment:
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - started
        logger.info("local environment ready in %.1f s", self.started_in)
        return self

    def _start(self) -> None:
        # Synthesis does not need the emulator; run it while the emulator starts.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            synth = pool.submit(synthesize, self._cloud_assembly, self._force_synth)
            endpoint = self.moto.start()
            self._clients = Clients(make_session(self.region), endpoint, self.region)
            self.user_pool = cognito.create_user_pool(self._clients("cognito-idp"), endpoint)
            template_path = synth.result()
        template = load_template(template_path, self.user_pool.pool_id, self.user_pool.client_id)
        self.outputs = deploy_stack(
            template,
            stack_name=self.stack_name,
            endpoint_url=endpoint,
            region=self.region,
            session=self._clients.session,
            assets=template_path.parent,
        )
        self.served = ServedStack(
            self._clients,
            self.outputs,
            moto_endpoint=endpoint,
            jwks_url=self.user_pool.jwks_url,
            settings=ServeSettings(
                port=self._port,
                management_port=self._management_port,
                idle_timeout=self._idle_timeout,
                max_duration=self._max_duration,
                handler_env_overrides=self._overrides,
                max_concurrency=self._max_concurrency,
                explain_refusals=self._explain_refusals,
            ),
            environment=self.function_environment,
        )
        self.served.start()
        self.scheduler = Scheduler(
            stack_rules(self._clients, self.stack_name),
            {name: runtime.invoke for name, runtime in self.runtimes.items()},
            period=self._schedule_period,
            timeouts={name: r.spec.timeout_seconds for name, r in self.runtimes.items()},
        ).start()
        self.create_test_user()  # the default speaker
        if self._state_file is not None:
            self._write_state()

    def stop(self) -> None:
        started = time.monotonic()
        if self.scheduler is not None:  # before the runtimes its runs use
            self.scheduler.stop()
            self.scheduler = None
        if self.served is not None:
            self.served.stop()
            self.served = None
        logger.debug("functions stopped after %.1f s", time.monotonic() - started)
        self.moto.shutdown()
        if self._state_file is not None:
            self._state_file.unlink(missing_ok=True)
        logger.info("local environment stopped in %.1f s", time.monotonic() - started)

    # --- functions ------------------------------------------------------------------------------
    def function_environment(self, configuration: Mapping[str, Any]) -> dict[str, str]:
        """A deployed function's environment as the local runtime runs it.

        The deployed variables (the template's, resolved by the deployment), with the callback
        URL pointed at the local management API, plus what Lambda and the emulator provide:
        region, dummy credentials, the emulator's endpoint and the user pool's JWKS URL
        (:meth:`ServedStack.base_environment`). The bench extends this hook.
        """
        if self.served is None:
            raise RuntimeError("the local environment is not started")
        return self.served.base_environment(configuration)

    # --- users ----------------------------------------------------------------------------------
    def create_test_user(
        self, username: str = cognito.DEFAULT_SPEAKER, password: str | None = None
    ) -> cognito.TestUser:
        """A confirmed user in the local pool (a throwaway password unless one is given)."""
        assert self.user_pool is not None
        user = cognito.create_test_user(
            self.client("cognito-idp"), self.user_pool, username, password
        )
        self._users[username] = user
        return user

    def tokens(self, username: str = cognito.DEFAULT_SPEAKER) -> dict[str, str]:
        """Sign the user in (created on first use); IdToken, AccessToken, RefreshToken."""
        assert self.user_pool is not None
        user = self._users.get(username) or self.create_test_user(username)
        return cognito.sign_in(self.client("cognito-idp"), self.user_pool, user)

    def speaker_token(self, username: str = cognito.DEFAULT_SPEAKER) -> str:
        """A fresh ID token for a speaker (the JWT the SPEC's ``token=`` carries)."""
        return self.tokens(username)["IdToken"]

    # --- state file for other terminals (``make verify ENV=local``) -----------------------------
    def state(self) -> LocalState:
        assert self.user_pool is not None
        return LocalState(
            pid=os.getpid(),
            region=self.region,
            stack_name=self.stack_name,
            endpoint_url=self.moto_endpoint,
            websocket_url=self.endpoint,
            callback_url=self.callback_url,
            user_pool_id=self.user_pool.pool_id,
            app_client_id=self.user_pool.client_id,
            outputs=dict(self.outputs),
            # Local throwaway credentials, for `python -m local.client token`.
            speakers=tuple(Speaker(u.username, u.password) for u in self._users.values()),
        )

    def _write_state(self) -> None:
        assert self._state_file is not None
        write_state(self._state_file, self.state())
