"""A deployed stack, served: :class:`ServedStack` runs its functions and its WebSocket API.

Given moto (already running) and a ``SessionManagement-*`` stack already deployed in it, this is
what makes the stack usable: one worker pool per deployed function, with the environment the
deployment gives that function, and the local gateway serving the deployed API's routes,
integrations and ``$connect`` authorizer. ``LocalEnvironment`` (``make local``) and
``PipelineAws`` (the pipelines' rehearsal, one stack per account) both serve stacks with it, so
both run the same machinery.

    served = ServedStack(clients, outputs, moto_endpoint=..., jwks_url=...)
    served.start()
    print(served.endpoint)   # ws://127.0.0.1:PORT/{stage}
    served.stop()
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.deploy import Clients
from local.gateway import Gateway, GatewayConfig, Integration, Route
from local.runtime import FunctionRuntime, FunctionSpec
from session_service import constants, specs

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

# A deployed function's configuration -> the credentials its workers get (environment variables).
CredentialsFor = Callable[[Mapping[str, Any]], Mapping[str, str]]
EnvironmentFor = Callable[[Mapping[str, Any]], dict[str, str]]


def dummy_credentials(configuration: Mapping[str, Any]) -> Mapping[str, str]:
    """moto's default account (123456789012) for every function: what ``make local`` uses."""
    return DUMMY_CREDENTIALS


@dataclass
class ServeSettings:
    """How the gateway and the runtimes run (ports 0: free ones)."""

    port: int = 0
    management_port: int = 0
    idle_timeout: float | None = None
    max_duration: float | None = None
    handler_env_overrides: dict[str, str] = field(default_factory=dict)
    max_concurrency: int = 8


class ServedStack:
    """The local gateway and function runtimes of one deployed stack.

    ``credentials`` says which credentials each function's workers get: the moto account they
    act in follows from them (moto maps an access key to the account it was issued in).
    ``environment`` replaces :meth:`base_environment` as the builder of a function's variables
    (``LocalEnvironment.function_environment`` is the hook the bench extends).
    """

    def __init__(
        self,
        clients: Clients,
        outputs: Mapping[str, str],
        *,
        moto_endpoint: str,
        jwks_url: str,
        settings: ServeSettings | None = None,
        credentials: CredentialsFor = dummy_credentials,
        environment: EnvironmentFor | None = None,
    ) -> None:
        self.clients = clients
        self.outputs = dict(outputs)
        self.moto_endpoint = moto_endpoint
        self.jwks_url = jwks_url
        self.settings = settings or ServeSettings()
        self._credentials = credentials
        self._environment = environment
        self.gateway: Gateway | None = None
        self.runtimes: dict[str, FunctionRuntime] = {}

    @property
    def region(self) -> str:
        return self.clients.region

    @property
    def endpoint(self) -> str:
        """``ws://127.0.0.1:PORT/{stage}``: where clients connect."""
        return self._gateway().endpoint

    @property
    def callback_url(self) -> str:
        """The local @connections API, what the handlers' ``CALLBACK_URL`` points at."""
        return self._gateway().callback_url

    def _gateway(self) -> Gateway:
        if self.gateway is None:
            raise RuntimeError("the stack is not served")
        return self.gateway

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> ServedStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        api_id = self.outputs[constants.OUTPUT_API_ID]
        stage = self.outputs[constants.OUTPUT_STAGE_NAME]
        api = self.clients("apigatewayv2").get_api(ApiId=api_id)
        config = GatewayConfig(
            api_id=api_id,
            stage=stage,
            region=self.region,
            account_id=self.clients("sts").get_caller_identity()["Account"],
            route_selection_expression=api["RouteSelectionExpression"],
            port=self.settings.port,
            management_port=self.settings.management_port,
        )
        if self.settings.idle_timeout is not None:
            config.idle_timeout = self.settings.idle_timeout
        if self.settings.max_duration is not None:
            config.max_duration = self.settings.max_duration
        # The gateway binds its ports first (the handlers need the callback URL) and refuses
        # connections until its routes are in place.
        self.gateway = Gateway(config, routes={}, ready=False)
        self.gateway.start()
        self._start_runtimes()
        self.gateway.routes = self._routes(api_id)
        self.gateway.ready = True

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        for runtime in self.runtimes.values():
            runtime.signal_stop()  # all workers exit together
        for runtime in self.runtimes.values():
            runtime.close()
        self.runtimes.clear()

    # --- functions ------------------------------------------------------------------------------
    def base_environment(self, configuration: Mapping[str, Any]) -> dict[str, str]:
        """A deployed function's environment as the local runtime runs it.

        The deployed variables (the template's, resolved by the deployment), with the callback
        URL pointed at the local management API, plus what Lambda and the emulator provide:
        region, credentials, the emulator's endpoint and the user pool's JWKS URL; then the
        test-only overrides.
        """
        variables = dict(configuration.get("Environment", {}).get("Variables", {}))
        deployed_callback = self.outputs.get(constants.OUTPUT_CALLBACK_URL)
        for name, value in variables.items():
            if name == constants.ENV_CALLBACK_URL or value == deployed_callback:
                variables[name] = self.callback_url
        variables.update(
            {
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_ENDPOINT_URL": self.moto_endpoint,
                **self._credentials(configuration),
                constants.ENV_JWKS_URL: self.jwks_url,
            }
        )
        variables.update(self.settings.handler_env_overrides)
        return variables

    def _start_runtimes(self) -> None:
        lambda_ = self.clients("lambda")
        environment = self._environment or self.base_environment
        for function in specs.FUNCTIONS.values():
            name = self.outputs[function.output_id]
            configuration = lambda_.get_function_configuration(FunctionName=name)
            entry_point = function.entry_point
            if configuration.get("Handler") != entry_point:
                raise RuntimeError(
                    f"{name}: deployed handler {configuration.get('Handler')!r}, "
                    f"expected {entry_point!r} (session_service.specs.FUNCTIONS)"
                )
            spec = FunctionSpec(
                name=name,
                entry_point=configuration["Handler"],
                environment=environment(configuration),
                timeout_seconds=float(configuration.get("Timeout", 3)),
                memory_mb=int(configuration.get("MemorySize", 128)),
            )
            self.runtimes[name] = FunctionRuntime(
                spec, max_concurrency=self.settings.max_concurrency
            )
        # Cold starts in parallel, at startup rather than on the first request.
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(self.runtimes)) as pool:
            list(pool.map(lambda r: r.warm(), self.runtimes.values()))

    def _integration_for(self, uri: str) -> Integration:
        """The local function behind an ``arn:aws:apigateway:…:lambda:path/…/functions/ARN/…``."""
        marker = "/functions/"
        if marker not in uri:
            raise RuntimeError(f"unsupported integration URI {uri}")
        function_arn = uri.split(marker, 1)[1].rsplit("/invocations", 1)[0]
        name = function_arn.split(":function:", 1)[-1].split(":", 1)[0]
        if name not in self.runtimes:
            raise RuntimeError(f"integration {uri} names no deployed function")
        return self.runtimes[name].invoke

    def _routes(self, api_id: str) -> dict[str, Route]:
        """The gateway's routes, read from the deployed API (routes, integrations, authorizer)."""
        apigw = self.clients("apigatewayv2")
        routes: dict[str, Route] = {}
        for item in apigw.get_routes(ApiId=api_id)["Items"]:
            target = item.get("Target", "")
            if not target.startswith("integrations/"):
                raise RuntimeError(f"route {item['RouteKey']} has no integration target")
            integration = apigw.get_integration(ApiId=api_id, IntegrationId=target.split("/", 1)[1])
            if integration.get("IntegrationType") != "AWS_PROXY":
                raise RuntimeError(f"route {item['RouteKey']}: only AWS_PROXY is emulated")
            authorizer = None
            if item.get("AuthorizationType") == "CUSTOM":
                # moto has no get_authorizers; the route names its authorizer.
                found = apigw.get_authorizer(ApiId=api_id, AuthorizerId=item["AuthorizerId"])
                authorizer = self._integration_for(found["AuthorizerUri"])
            routes[item["RouteKey"]] = Route(
                key=item["RouteKey"],
                integration=self._integration_for(integration["IntegrationUri"]),
                authorizer=authorizer,
                two_way=bool(item.get("RouteResponseSelectionExpression")),
            )
        return routes
