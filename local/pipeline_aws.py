"""A local AWS for the pipelines: :class:`PipelineAws`, with a control API for job processes.

The rehearsal of the GitHub workflows (``act`` in host mode) runs each job as a separate process
against one long-lived local AWS. ``PipelineAws`` is that AWS: moto's server on 127.0.0.1, in
this process (unlike ``LocalEnvironment``'s, which runs in its own: :mod:`local.stack_operations`
and :mod:`local.change_sets` act on moto's backend objects, which live where moto serves), and per
environment (``infra/config/<env>.json``: dev 111111111111, staging 222222222222, prod
333333333333) in that environment's account and region:

- the ``CDKToolkit`` stack as ``cdk bootstrap`` leaves it (:mod:`local.cdk_bootstrap`);
- a Cognito user pool and app client, with a confirmed smoke-test user (permanent password,
  signable with ``InitiateAuth`` ``USER_PASSWORD_AUTH`` on the app client);
- on request, the stack ``SessionManagement-<env>`` deployed from a cloud assembly and served
  (a local gateway and the real handlers, :class:`local.served_stack.ServedStack`).

moto's CloudFormation also answers ``ContinueUpdateRollback`` and ``CancelUpdateStack`` as AWS
does (:mod:`local.stack_operations`), and a stack can be forced into any status to rehearse the
recovery.

Accounts in moto: moto acts in the account of the access key a request is signed with; a key
issued by moto's STS ``AssumeRole``/``AssumeRoleWithWebIdentity`` belongs to the account of the
role ARN (the role need not exist); any other key acts in 123456789012. So a job whose
credentials come from assuming ``arn:aws:iam::111111111111:role/...`` acts in dev's account.
``PipelineAws`` itself works in each account through such an assumed role
(``arn:aws:iam::<account>:role/local-pipeline-aws``), and each function's workers get
credentials of the function's own execution role. (``MOTO_ACCOUNT_ID`` in the environment, or an
``x-moto-account-id`` header, would override all of this: leave them unset.)

Control API (``http://127.0.0.1:PORT``, JSON in and out; an error answers a non-2xx status with
``{"error": "<one line>"}``: 400 bad input, 404 unknown environment or stack, 409 a stack in a
state that forbids the operation, 500 a failed deployment):

    GET  /health                    {"status": "ok", "motoEndpoint": URL}
    GET  /environments              {ENV: {"account", "region", "stackName", "userPoolId",
                                           "appClientId", "jwksUrl", "smokeUser"}}
    POST /deploy   {"env", "assembly"}  {"stackName", "outputs", "websocketUrl", "notes",
                                         "recreated"}   (assembly: an absolute directory)
    POST /destroy  {"env"}          {"stackName", "destroyed", "notes"}
    GET  /stacks/<name>             {"stackName", "env", "status", "websocketUrl", "outputs"}
    POST /stack-status {"stackName", "status"}  {"stackName", "previous", "status"}
    POST /change-sets {"env", "assembly", "name"}  {"stackName", "changeSetName", "changeSetId",
                                                    "changes", "notes"}
    POST /change-sets/execute {"env", "name"}  as /deploy, plus "changeSetName"

``cdk deploy --method=prepare-change-set`` registers the change set (:mod:`local.change_sets`:
moto's ``DescribeChangeSet`` then answers it); ``--method=execute-change-set`` deploys the
assembly as it was prepared, refused (409) unless the change set is ``AVAILABLE``. Every stack
operation is appended to :attr:`PipelineAws.operations`, so a rehearsal can tell what ran.

    with PipelineAws(smoke_user=("smoke@example.com", "Smoke-Password-1a")) as aws:
        print(aws.control_url, aws.moto_endpoint)
        result = aws.deploy("dev", Path("cdk.out/dev"))
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.config import ConfigWarning, load_config
from local import change_sets, cognito, rollback_triggers, stack_operations
from local.cdk_bootstrap import bootstrap_toolkit
from local.deploy import (
    API_CREATED_TYPES,
    CREATORS,
    Clients,
    DeployError,
    Values,
    delete_stack,
    deploy_stack,
)
from local.moto_server import MotoServer
from local.served_stack import ServedStack, ServeSettings
from session_service import constants

logger = logging.getLogger(__name__)

ENVIRONMENTS = ("dev", "staging", "prod")
OPERATOR_ROLE = "local-pipeline-aws"
# States from which CloudFormation refuses an update (cdk deploy fails with this message).
_NOT_UPDATABLE_SUFFIXES = ("_IN_PROGRESS", "_FAILED")


class ControlError(RuntimeError):
    """An expected refusal: ``status`` is the control API's HTTP status, the message one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def assumed_session(endpoint_url: str, role_arn: str, session_name: str, region: str) -> Any:
    """A boto3 session with moto STS credentials of ``role_arn``: it acts in the role's account."""
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (the emulator's dummy credentials)
    )
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


@dataclass
class Environment:
    """One environment's account in moto: its clients, its pool, its served stack."""

    name: str
    account: str
    region: str
    stack_name: str
    config_pool_id: str
    config_client_id: str
    clients: Clients
    pool: cognito.UserPool
    smoke_user: cognito.TestUser | None = None
    served: ServedStack | None = None
    api_created: dict[str, Values] = field(default_factory=dict)
    assembly: Path | None = None  # the one deployed last: what a rollback trigger returns to

    def describe(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "stackName": self.stack_name,
            "userPoolId": self.pool.pool_id,
            "appClientId": self.pool.client_id,
            "jwksUrl": self.pool.jwks_url,
            "smokeUser": self.smoke_user.username if self.smoke_user else None,
        }


@dataclass
class DeployResult:
    stack_name: str
    outputs: dict[str, str]
    websocket_url: str
    notes: list[str]
    recreated: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "stackName": self.stack_name,
            "outputs": self.outputs,
            "websocketUrl": self.websocket_url,
            "notes": self.notes,
            "recreated": self.recreated,
        }


class PipelineAws:
    """moto + bootstrapped accounts + Cognito pools + deployed, served stacks + the control API.

    ``smoke_user`` (username, password) is created, confirmed, in every environment's pool (the
    username is an e-mail address: the pools sign in by e-mail). ``handler_env_overrides`` is
    test-only, as for ``LocalEnvironment``.
    """

    def __init__(
        self,
        envs: Iterable[str] = ENVIRONMENTS,
        *,
        smoke_user: tuple[str, str] | None = None,
        moto_port: int = 0,
        control_port: int = 0,
        handler_env_overrides: Mapping[str, str] | None = None,
        max_concurrency: int = 4,
        seconds_per_monitoring_minute: float = 60,
    ) -> None:
        self.env_names = tuple(envs)
        self._seconds_per_minute = seconds_per_monitoring_minute
        self._smoke_user = smoke_user
        self._control_port = control_port
        self._overrides = dict(handler_env_overrides or {})
        self._max_concurrency = max_concurrency
        self.moto = MotoServer(port=moto_port)  # in this process: its backends are acted on
        self.environments: dict[str, Environment] = {}
        self._lock = threading.RLock()
        self._control: ThreadingHTTPServer | None = None
        self._control_thread: threading.Thread | None = None
        # Every stack operation, in order: {"op": deploy|execute-change-set|destroy, "env", ...}.
        self.operations: list[dict[str, str]] = []
        # Rehearsal-only: called (env, change set name) right after a change set is prepared,
        # to change the stack while the approver reads it.
        self.after_prepare: Callable[[str, str], None] | None = None
        self._prepared_dir: Path | None = None

    # --- addresses ----------------------------------------------------------------------------
    @property
    def moto_endpoint(self) -> str:
        return self.moto.endpoint

    @property
    def control_url(self) -> str:
        if self._control is None:
            raise RuntimeError("the pipeline AWS is not started")
        host, port = self._control.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> PipelineAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> PipelineAws:
        try:
            stack_operations.install()
            change_sets.install()
            self._prepared_dir = Path(tempfile.mkdtemp(prefix="pipeline-aws-change-sets-"))
            endpoint = self.moto.start()
            for name in self.env_names:
                self.environments[name] = self._prepare(name, endpoint)
            self._start_control()
        except BaseException:
            self.stop()
            raise
        logger.info("pipeline AWS ready: moto %s, control %s", endpoint, self.control_url)
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()
            self._control = None
        if self._control_thread is not None:
            self._control_thread.join(timeout=5)
            self._control_thread = None
        for environment in self.environments.values():
            if environment.served is not None:
                environment.served.stop()
                environment.served = None
        self.environments.clear()
        self.moto.shutdown()
        if self._prepared_dir is not None:
            shutil.rmtree(self._prepared_dir, ignore_errors=True)
            self._prepared_dir = None

    def _prepare(self, name: str, endpoint: str) -> Environment:
        """Bootstrap the environment's account and give it a user pool and the smoke user."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConfigWarning)
            config = load_config(name)
        role = f"arn:aws:iam::{config.account}:role/{OPERATOR_ROLE}"
        session = assumed_session(endpoint, role, OPERATOR_ROLE, config.region)
        clients = Clients(session, endpoint, config.region)
        bootstrap_toolkit(clients)
        pool = cognito.create_user_pool(
            clients("cognito-idp"),
            endpoint,
            pool_name=f"session-management-{name}",
            client_name=f"session-management-{name}-client",
        )
        environment = Environment(
            name=name,
            account=config.account,
            region=config.region,
            stack_name=constants.STACK_NAME_TEMPLATE.format(env=name),
            config_pool_id=config.cognito.user_pool_id,
            config_client_id=config.cognito.app_client_id,
            clients=clients,
            pool=pool,
        )
        if self._smoke_user is not None:
            username, password = self._smoke_user
            environment.smoke_user = cognito.create_test_user(
                clients("cognito-idp"), pool, username, password
            )
        logger.info("%s: account %s bootstrapped, user pool %s", name, config.account, pool.pool_id)
        return environment

    # --- what job processes ask for ------------------------------------------------------------
    def environment(self, name: str) -> Environment:
        if name not in self.environments:
            known = ", ".join(self.environments) or "none"
            raise ControlError(404, f"unknown environment {name!r}; expected one of: {known}")
        return self.environments[name]

    def deploy(self, env: str, assembly_dir: Path, op: str = "deploy") -> DeployResult:
        """Deploy ``<assembly_dir>/SessionManagement-<env>.template.json`` and serve it.

        An update of a stack with rollback triggers is watched as CloudFormation watches it
        (:mod:`local.rollback_triggers`): a trigger in ALARM at its start leaves the stack as it
        was, one that fires before the monitoring period ends redeploys the previous assembly;
        either way the stack ends ``UPDATE_ROLLBACK_COMPLETE`` and the deploy fails (500).
        """
        with self._lock:
            environment = self.environment(env)
            index = len(self.operations)
            self.operations.append({"op": op, "env": env, "assembly": str(assembly_dir)})
            triggers = self._saved_triggers(environment)
            watched = bool(triggers) and op != "rollback"  # CloudFormation's own rollback: not
            if watched:
                firing = rollback_triggers.fired(environment.clients("cloudwatch"), triggers)
                if firing:
                    self._rolled_back(environment, firing, "when the update started", index)
            result = self._deploy(environment, Path(assembly_dir))
            previous, environment.assembly = environment.assembly, Path(assembly_dir)
            if triggers:  # an update keeps them; the local deployer's recreated stack too
                stack_operations.save_rollback_configuration(
                    stack_operations.find_stack(environment.stack_name, environment.account),
                    triggers,
                )
            if watched:
                result.notes.append(self._trigger_note(triggers))
                firing = rollback_triggers.watch(
                    environment.clients("cloudwatch"), triggers, self._seconds_per_minute
                )
                if firing:
                    if previous is not None:
                        self.deploy(env, previous, op="rollback")
                        environment.assembly = previous
                    self._rolled_back(environment, firing, "within the monitoring period", index)
            return result

    def _saved_triggers(self, environment: Environment) -> dict[str, Any]:
        """The rollback configuration saved on the environment's stack, if it has triggers."""
        try:
            stack = stack_operations.find_stack(environment.stack_name, environment.account)
        except stack_operations.StackOperationError:
            return {}
        configuration = stack_operations.rollback_configuration(stack)
        return configuration if configuration.get("RollbackTriggers") else {}

    def _trigger_note(self, triggers: Mapping[str, Any]) -> str:
        minutes = triggers.get("MonitoringTimeInMinutes", 0)
        return (
            "rollback triggers emulated by the local deployer (moto watches no alarm): "
            f"{', '.join(t['Arn'] for t in triggers['RollbackTriggers'])} checked when the update "
            f"started and through its monitoring period of {minutes} minutes, lasting "
            f"{minutes * self._seconds_per_minute:g} s here"
        )

    def _rolled_back(
        self, environment: Environment, firing: list[str], when: str, index: int
    ) -> None:
        """Mark the stack rolled back as CloudFormation does, and fail the deploy."""
        stack = stack_operations.find_stack(environment.stack_name, environment.account)
        reason = f"rollback trigger fired {when}: {', '.join(firing)} in ALARM"
        stack_operations.settle(stack, "UPDATE_ROLLBACK_COMPLETE", reason)
        self.operations[index]["rolledBack"] = reason
        raise ControlError(
            500,
            f"deploy of {environment.stack_name} failed: UPDATE_ROLLBACK_COMPLETE, {reason} "
            "(rollback triggers emulated by the local deployer)",
        )

    def _deploy(self, environment: Environment, assembly_dir: Path) -> DeployResult:
        with self._lock:
            original, template = self._read_assembly(environment, Path(assembly_dir))
            notes = self._substitution_notes(environment, template)
            if original == json.dumps(template) or environment.pool.pool_id in original:
                notes = [n for n in notes if not n.startswith("Cognito ids")]
            previous_port: tuple[int, int] | None = None
            if environment.served is not None and environment.served.gateway is not None:
                gateway = environment.served.gateway
                previous_port = (gateway.port or 0, gateway.management_port or 0)
            recreated = self._remove_existing(environment, notes)
            try:
                outputs = deploy_stack(
                    template,
                    stack_name=environment.stack_name,
                    endpoint_url=self.moto_endpoint,
                    region=environment.region,
                    session=environment.clients.session,
                    assets=Path(assembly_dir),
                    api_created=environment.api_created,
                )
            except (DeployError, ClientError, BotoCoreError) as err:
                raise ControlError(
                    500, f"deploy of {environment.stack_name} failed: {err}"
                ) from err
            stack_operations.keep_template(environment.stack_name, environment.account, original)
            url = self._serve(environment, outputs, previous_port, notes)
            return DeployResult(environment.stack_name, outputs, url, notes, recreated)

    def prepare_change_set(self, env: str, assembly_dir: Path, name: str) -> dict[str, Any]:
        """Register the change set of the assembly against the deployed stack; nothing runs."""
        with self._lock:
            environment = self.environment(env)
            # Read (and checked) as a deploy reads it; the copy made below is what runs.
            original, _ = self._read_assembly(environment, Path(assembly_dir))
            deployed = self._deployed_template(environment)
            assert self._prepared_dir is not None
            copy = self._prepared_dir / f"{env}-{name}"
            if copy.exists():
                raise ControlError(
                    409, f"ChangeSet {name} already exists for stack {environment.stack_name}"
                )
            shutil.copytree(Path(assembly_dir), copy)
            prepared = change_sets.PreparedChangeSet(
                name=name,
                stack_name=environment.stack_name,
                account=environment.account,
                region=environment.region,
                assembly=copy,
                changes=change_sets.resource_changes(
                    deployed.get("Resources", {}), json.loads(original).get("Resources", {})
                ),
                stack=change_sets.stack_identity(environment.stack_name, environment.account),
            )
            try:
                change_sets.REGISTRY.add(prepared)
            except ValueError as err:
                raise ControlError(409, str(err)) from err
            self.operations.append({"op": "prepare-change-set", "env": env, "changeSet": name})
            if self.after_prepare is not None:
                self.after_prepare(env, name)
            return {
                "stackName": environment.stack_name,
                "changeSetName": name,
                "changeSetId": prepared.change_set_id,
                "changes": len(prepared.changes),
                "notes": [
                    "cdk deploy --method=prepare-change-set substituted by the local deployer: "
                    "moto's CloudFormation cannot make a change set of this stack; its changes "
                    "were computed from the deployed template (local/change_sets.py), and "
                    "DescribeChangeSet answers them"
                ],
            }

    def execute_change_set(self, env: str, name: str) -> DeployResult:
        """Deploy the assembly a change set was prepared from, if it is still executable."""
        with self._lock:
            environment = self.environment(env)
            prepared = change_sets.REGISTRY.find(environment.account, environment.stack_name, name)
            if prepared is None:
                raise ControlError(404, f"ChangeSet [{name}] does not exist")
            status = prepared.execution_status
            if status != "AVAILABLE":
                raise ControlError(
                    409,
                    f"ChangeSet [{prepared.change_set_id}] cannot be executed in its current "
                    f"execution status of [{status}]",
                )
            first = len(self.operations)
            try:
                return self.deploy(env, prepared.assembly, op="execute-change-set")
            finally:  # executed, also when a rollback trigger rolled it back
                change_sets.REGISTRY.executed(prepared)
                self.operations[first]["changeSet"] = name

    def _deployed_template(self, environment: Environment) -> dict[str, Any]:
        """``GetTemplate`` of the deployed stack (empty when there is none: all is added)."""
        if change_sets.stack_identity(environment.stack_name, environment.account) is None:
            return {}
        try:
            body = environment.clients("cloudformation").get_template(
                StackName=environment.stack_name
            )["TemplateBody"]
            parsed = body if isinstance(body, dict) else json.loads(body)
        except (ClientError, BotoCoreError, ValueError, TypeError) as err:
            raise ControlError(500, f"get-template {environment.stack_name}: {err}") from err
        return dict(parsed)

    def destroy(self, env: str) -> dict[str, Any]:
        """Delete the environment's stack (and what the deployer made outside it); stop serving."""
        with self._lock:
            environment = self.environment(env)
            self.operations.append({"op": "destroy", "env": env})
            notes: list[str] = []
            destroyed = self._remove_existing(environment, notes, reason="destroy")
            if not destroyed:
                notes.append(f"stack {environment.stack_name} does not exist: nothing to destroy")
            return {"stackName": environment.stack_name, "destroyed": destroyed, "notes": notes}

    def set_stack_status(self, stack_name: str, status: str) -> dict[str, str]:
        """Force a stack into ``status`` (e.g. UPDATE_ROLLBACK_FAILED) to rehearse recovery."""
        with self._lock:
            try:
                previous = stack_operations.set_stack_status(stack_name, status)
            except stack_operations.StackOperationError as err:
                code = 404 if "does not exist" in str(err) else 400
                raise ControlError(code, str(err)) from err
            return {"stackName": stack_name, "previous": previous, "status": status}

    def websocket_url(self, stack_name: str) -> str:
        """``ws://127.0.0.1:PORT/<stage>`` of a deployed, served stack."""
        served = self._environment_of(stack_name).served
        if served is None or served.gateway is None:
            raise ControlError(404, f"stack {stack_name} is not deployed")
        return served.endpoint

    def stack(self, stack_name: str) -> dict[str, Any]:
        environment = self._environment_of(stack_name)
        url = self.websocket_url(stack_name)
        assert environment.served is not None
        return {
            "stackName": stack_name,
            "env": environment.name,
            "status": stack_operations.stack_status(stack_name, environment.account),
            "websocketUrl": url,
            "outputs": environment.served.outputs,
        }

    # --- the deployment's parts ------------------------------------------------------------------
    def _environment_of(self, stack_name: str) -> Environment:
        for environment in self.environments.values():
            if environment.stack_name == stack_name:
                return environment
        known = ", ".join(e.stack_name for e in self.environments.values())
        raise ControlError(404, f"unknown stack {stack_name!r}; expected one of: {known}")

    def _read_assembly(self, environment: Environment, assembly: Path) -> tuple[str, Any]:
        """The assembly's template text as is, and parsed with the local pool's ids in it."""
        if not assembly.is_absolute():
            raise ControlError(400, f"assembly {assembly}: an absolute directory is expected")
        if not assembly.is_dir():
            raise ControlError(400, f"assembly {assembly}: no such directory (run `make synth`)")
        path = assembly / f"{environment.stack_name}.template.json"
        if not path.is_file():
            raise ControlError(
                400,
                f"assembly {assembly} has no {path.name}: not an assembly of {environment.name}",
            )
        original = path.read_text(encoding="utf-8")
        pool = environment.pool
        if pool.pool_id in original and pool.client_id in original:
            # Synthesized from a config that names the local pool (the rehearsal's repository).
            try:
                return original, json.loads(original)
            except ValueError as err:
                raise ControlError(400, f"{path}: not JSON ({err})") from err
        for configured in (environment.config_pool_id, environment.config_client_id):
            if configured not in original:
                raise ControlError(
                    400,
                    f"{path} does not carry the Cognito id {configured} of "
                    f"infra/config/{environment.name}.json: synthesized from another config?",
                )
        text = original.replace(environment.config_pool_id, environment.pool.pool_id).replace(
            environment.config_client_id, environment.pool.client_id
        )
        try:
            return original, json.loads(text)
        except ValueError as err:
            raise ControlError(400, f"{path}: not JSON ({err})") from err

    def _substitution_notes(self, environment: Environment, template: Any) -> list[str]:
        types = {r.get("Type") for r in template.get("Resources", {}).values()}
        by_api = sorted(t for t in types if t in CREATORS and t not in API_CREATED_TYPES)
        completed = sorted(t for t in types if t in API_CREATED_TYPES)
        env = environment.name
        return [
            "cdk deploy substituted by the local deployer (local.deploy): moto's CloudFormation "
            f"cannot create {', '.join(by_api)}; they were created through the service APIs from "
            "the template's properties"
            + (
                f", as were {', '.join(completed)} (moto's CloudFormation drops their "
                "architecture, tags and tracing)"
                if completed
                else ""
            ),
            f"Cognito ids of infra/config/{env}.json ({environment.config_pool_id}, "
            f"{environment.config_client_id}) substituted by the local pool's "
            f"({environment.pool.pool_id}, {environment.pool.client_id}): the configured pool "
            "does not exist in moto",
            "GetTemplate answers the assembly's template as cdk deploy submits it (not the "
            "deployer's intermediate one), so cdk diff compares as against AWS",
        ]

    def _remove_existing(
        self, environment: Environment, notes: list[str], reason: str = "redeploy"
    ) -> bool:
        """Delete the environment's stack if it exists; whether it existed."""
        try:
            [stack] = environment.clients("cloudformation").describe_stacks(
                StackName=environment.stack_name
            )["Stacks"]
        except ClientError:
            stack = None
        if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
            return False
        status = stack["StackStatus"]
        if reason == "redeploy" and status.endswith(_NOT_UPDATABLE_SUFFIXES):
            # What CloudFormation answers to the update cdk deploy would submit.
            raise ControlError(
                409, f"Stack:{stack['StackId']} is in {status} state and can not be updated."
            )
        if environment.served is not None:
            environment.served.stop()
            environment.served = None
        try:
            delete_stack(
                environment.clients,
                environment.stack_name,
                environment.api_created,
                replacing=reason == "redeploy",
            )
        except DeployError as err:
            raise ControlError(500, str(err)) from err
        environment.api_created.clear()
        if reason == "redeploy":
            notes.append(
                f"stack update substituted by delete and create: {environment.stack_name} existed "
                f"({status}) and the local deployer cannot update a stack in place (it creates "
                "what moto's CloudFormation cannot outside the stack); the tables' items are gone"
            )
        else:
            notes.append(f"stack {environment.stack_name} ({status}) deleted")
        return True

    def _serve(
        self,
        environment: Environment,
        outputs: Mapping[str, str],
        previous_port: tuple[int, int] | None,
        notes: list[str],
    ) -> str:
        """Start the gateway and runtimes, on the previous ports when they are still free."""
        ports = [previous_port, None] if previous_port else [None]
        last_error: OSError | None = None
        for attempt in ports:
            served = ServedStack(
                environment.clients,
                outputs,
                moto_endpoint=self.moto_endpoint,
                jwks_url=environment.pool.jwks_url,
                settings=ServeSettings(
                    port=attempt[0] if attempt else 0,
                    management_port=attempt[1] if attempt else 0,
                    handler_env_overrides=self._overrides,
                    max_concurrency=self._max_concurrency,
                ),
                credentials=self._execution_role_credentials,
            )
            try:
                served.start()
            except OSError as err:  # the previous port was taken meanwhile
                last_error = err
                continue
            except (RuntimeError, ClientError, BotoCoreError) as err:
                raise ControlError(500, f"cannot serve {environment.stack_name}: {err}") from err
            environment.served = served
            if previous_port and attempt is None:
                notes.append(
                    f"the WebSocket URL changed to {served.endpoint}: port {previous_port[0]} "
                    "was taken"
                )
            notes.append(
                f"the WebSocket API is served by the local gateway at {served.endpoint} with the "
                "real handlers in local worker processes: moto neither serves WebSocket APIs nor "
                f"runs functions; the {constants.OUTPUT_WEBSOCKET_URL} output "
                f"({outputs.get(constants.OUTPUT_WEBSOCKET_URL)}) does not resolve here "
                "(smoke-test with SESSION_WEBSOCKET_URL)"
            )
            return served.endpoint
        raise ControlError(500, f"cannot serve {environment.stack_name}: {last_error}")

    def _execution_role_credentials(self, configuration: Mapping[str, Any]) -> dict[str, str]:
        """Credentials of the function's execution role: its workers act in the stack's account."""
        region = str(configuration["FunctionArn"]).split(":")[3]  # arn:aws:lambda:REGION:…
        session = assumed_session(
            self.moto_endpoint, configuration["Role"], configuration["FunctionName"], region
        )
        credentials = session.get_credentials()
        return {
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            "AWS_SESSION_TOKEN": credentials.token,
        }

    # --- the control API -------------------------------------------------------------------------
    def _start_control(self) -> None:
        handler = type("ControlHandler", (_ControlHandler,), {"aws": self})
        self._control = ThreadingHTTPServer(("127.0.0.1", self._control_port), handler)
        self._control.daemon_threads = True
        self._control_thread = threading.Thread(
            target=self._control.serve_forever, name="pipeline-aws-control", daemon=True
        )
        self._control_thread.start()

    def handle(self, method: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One control request -> its JSON answer (raises :class:`ControlError`)."""
        if method == "GET" and path == "/health":
            return {"status": "ok", "motoEndpoint": self.moto_endpoint}
        if method == "GET" and path == "/environments":
            return {name: e.describe() for name, e in self.environments.items()}
        if method == "GET" and path.startswith("/stacks/"):
            return self.stack(path.removeprefix("/stacks/"))
        if method == "POST" and path == "/deploy":
            env, assembly = _field(body, "env"), _field(body, "assembly")
            return self.deploy(env, Path(assembly)).as_json()
        if method == "POST" and path == "/destroy":
            return self.destroy(_field(body, "env"))
        if method == "POST" and path == "/change-sets":
            env, assembly = _field(body, "env"), _field(body, "assembly")
            return self.prepare_change_set(env, Path(assembly), _field(body, "name"))
        if method == "POST" and path == "/change-sets/execute":
            name = _field(body, "name")
            answer = self.execute_change_set(_field(body, "env"), name).as_json()
            return {**answer, "changeSetName": name}
        if method == "POST" and path == "/stack-status":
            return self.set_stack_status(_field(body, "stackName"), _field(body, "status"))
        raise ControlError(404, f"no such endpoint: {method} {path} (see local/pipeline_aws.py)")


def _field(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"request body: {name!r} is required (a non-empty string)")
    return value


class _ControlHandler(BaseHTTPRequestHandler):
    aws: PipelineAws
    server_version = "local-pipeline-aws"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("control API: " + format, *args)

    def _answer(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        try:
            body: Any = {}
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError as err:
                    raise ControlError(400, f"request body is not JSON: {err}") from err
            if not isinstance(body, dict):
                raise ControlError(400, "request body: a JSON object is expected")
            self._answer(HTTPStatus.OK, self.aws.handle(method, self.path.split("?")[0], body))
        except ControlError as err:
            self._answer(err.status, {"error": str(err)})
        except Exception as err:  # an unexpected fault still answers JSON, and is logged
            logger.exception("control API %s %s failed", method, self.path)
            self._answer(500, {"error": f"{type(err).__name__}: {err}"})

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")
