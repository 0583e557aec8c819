"""Task 13.3: the WebSocket API, its routes, authorizer, stage, throttling and permissions.

Authorizers are read by id from the routes (``get_authorizer``): moto does not answer
``get_authorizers``, and a route's ``AuthorizerId`` is what decides whether the authorizer runs.
"""

from __future__ import annotations

import fnmatch
import json
from typing import TYPE_CHECKING, Any

from ci.checklist import BY_ID
from ci.checks import check
from ci.checks.functions import configuration
from ci.checks.iam import allows, role_statements
from ci.model import Outcome, Status, failed, passed, skipped
from ci.model import check as verdict
from session_service import constants as C
from session_service import specs
from session_service.protocol import (
    CONNECT_ROUTE,
    DEFAULT_ROUTE,
    DISCONNECT_ROUTE,
    ROUTE_SELECTION_EXPRESSION,
    Action,
    ErrorCode,
    MessageType,
)

if TYPE_CHECKING:
    from ci.deployment import Deployment

REFRESH = Action.REFRESH_CONNECTION
# Where AWS disagrees with the checklist: the catalogue's words (ci/checklist.py, DIFFERS).
REFRESH_NOTE = BY_ID["api.authorizer.refresh"].differs
IDENTITY_SOURCE_NOTE = BY_ID["api.authorizer"].differs
# The routes the checklist names, each with its own line (api.route.<id>): the ids are the
# checklist's, so a new route of the specs needs its line here (and in ci/checklist.py).
_ROUTE_IDS = {
    CONNECT_ROUTE: "connect",
    DISCONNECT_ROUTE: "disconnect",
    Action.HEARTBEAT: "heartbeat",
    REFRESH: "refresh",
}
# $default is not on the checklist: it is part of how messages are routed, so api.protocol
# (the route selection) checks it. Every route of the stack is checked by one of the two.
if set(specs.ROUTES) != set(_ROUTE_IDS) | {DEFAULT_ROUTE}:
    raise RuntimeError(f"routes without a check: {sorted(set(specs.ROUTES) - set(_ROUTE_IDS))}")
DEFAULT_NOTE = (
    f"messages that match no route go to {DEFAULT_ROUTE}, whose function answers with the "
    f"protocol's {MessageType.ERROR} message ({ErrorCode.INVALID_ACTION} / "
    f"{ErrorCode.INVALID_PARAMETERS}); without it API Gateway answers "
    '{"message":"Forbidden"}'
)


def api_id(dep: Deployment) -> str:
    return dep.output(C.OUTPUT_API_ID)


def get_api(dep: Deployment) -> dict[str, Any]:
    if "api" not in dep.scratch:
        dep.scratch["api"] = dep.clients("apigatewayv2").get_api(ApiId=api_id(dep))
    return dep.scratch["api"]


def routes(dep: Deployment) -> dict[str, dict[str, Any]]:
    if "routes" not in dep.scratch:
        client, found, token = dep.clients("apigatewayv2"), {}, None
        while True:
            kwargs = {"ApiId": api_id(dep), **({"NextToken": token} if token else {})}
            page = client.get_routes(**kwargs)
            found.update({r["RouteKey"]: r for r in page.get("Items", [])})
            token = page.get("NextToken")
            if not token:
                break
        dep.scratch["routes"] = found
    return dep.scratch["routes"]


@check("api.created")
def _created(dep: Deployment) -> Outcome:
    api = get_api(dep)
    expected = C.API_NAME_TEMPLATE.format(env=dep.env)
    return verdict(
        api.get("Name") == expected,
        f"API {api['ApiId']} named {api.get('Name')}",
        f"an API named {expected}",
    )


@check("api.protocol")
def _protocol(dep: Deployment) -> Outcome:
    api = get_api(dep)
    protocol, selection = api.get("ProtocolType"), api.get("RouteSelectionExpression")
    default = _route(dep, DEFAULT_ROUTE)
    expected = (
        f"protocol WEBSOCKET, route selection {ROUTE_SELECTION_EXPRESSION}, "
        f"{DEFAULT_ROUTE} -> AWS_PROXY integration invoking the "
        f"{specs.ROUTES[DEFAULT_ROUTE].function} function"
    )
    return verdict(
        protocol == "WEBSOCKET"
        and selection == ROUTE_SELECTION_EXPRESSION
        and default.status is Status.PASS,
        f"protocol {protocol}, route selection {selection}; {default.evidence}",
        expected,
        DEFAULT_NOTE,
    )


def _route(dep: Deployment, key: str) -> Outcome:
    route = routes(dep).get(key)
    handler = specs.ROUTES[key].function
    function_arn = configuration(dep, handler)["FunctionArn"]
    if route is None:
        return failed(f"routes: {', '.join(sorted(routes(dep)))}", f"a {key} route")
    target = route.get("Target", "")
    if not target.startswith("integrations/"):
        return failed(f"{key} target {target or 'none'}", f"{key} integrated with {function_arn}")
    integration = dep.clients("apigatewayv2").get_integration(
        ApiId=api_id(dep), IntegrationId=target.split("/", 1)[1]
    )
    uri = integration.get("IntegrationUri", "")
    return verdict(
        function_arn in uri and integration.get("IntegrationType") == "AWS_PROXY",
        f"{key} -> {integration.get('IntegrationType')} {uri}",
        f"{key} -> AWS_PROXY integration invoking {function_arn}",
    )


def _register_route(key: str) -> None:
    check(f"api.route.{_ROUTE_IDS[key]}")(lambda dep: _route(dep, key))


for _key in _ROUTE_IDS:
    _register_route(_key)


def _authorizer_ids(dep: Deployment) -> list[str]:
    return sorted({r["AuthorizerId"] for r in routes(dep).values() if r.get("AuthorizerId")})


@check("api.authorizer")
def _authorizer(dep: Deployment) -> Outcome:
    ids = _authorizer_ids(dep)
    if not ids:
        return failed("no route names an authorizer", f"a REQUEST authorizer on {CONNECT_ROUTE}")
    function_arn = configuration(dep, specs.AUTHORIZER_FUNCTION)["FunctionArn"]
    client = dep.clients("apigatewayv2")
    found = []
    for authorizer_id in ids:
        try:
            found.append(client.get_authorizer(ApiId=api_id(dep), AuthorizerId=authorizer_id))
        except client.exceptions.NotFoundException:
            return failed(
                f"authorizer {authorizer_id} named by a route does not exist", "it exists"
            )
    good = [
        a
        for a in found
        if a.get("AuthorizerType") == "REQUEST" and function_arn in a.get("AuthorizerUri", "")
    ]
    evidence = "; ".join(
        f"{a.get('Name')} ({a.get('AuthorizerId')}): {a.get('AuthorizerType')}, "
        f"identity source {a.get('IdentitySource') or 'none'}"
        for a in found
    )
    if not good:
        return failed(evidence, f"a REQUEST authorizer invoking {function_arn}")
    if any(a.get("IdentitySource") for a in good):
        return failed(evidence, "no identity source", IDENTITY_SOURCE_NOTE)
    return passed(evidence, IDENTITY_SOURCE_NOTE)


@check("api.authorizer.connect")
def _authorizer_connect(dep: Deployment) -> Outcome:
    route = routes(dep).get(CONNECT_ROUTE)
    if route is None:
        return skipped(f"no {CONNECT_ROUTE} route (see api.route.connect)")
    kind, authorizer = route.get("AuthorizationType", "NONE"), route.get("AuthorizerId")
    return verdict(
        kind == "CUSTOM" and bool(authorizer),
        f"{CONNECT_ROUTE} authorization {kind}, authorizer {authorizer or 'none'}",
        f"{CONNECT_ROUTE} authorization CUSTOM with the Lambda authorizer",
    )


@check("api.authorizer.refresh")
def _authorizer_refresh(dep: Deployment) -> Outcome:
    found = routes(dep)
    refresh, connect = found.get(REFRESH), found.get(CONNECT_ROUTE)
    if refresh is None:
        return skipped(f"no {REFRESH} route (see api.route.refresh)")
    if connect is None or connect.get("AuthorizationType") != "CUSTOM":
        return skipped(f"{CONNECT_ROUTE} is not authorized (see api.authorizer.connect)")
    kind = refresh.get("AuthorizationType", "NONE")
    evidence = f"{REFRESH} authorization {kind}; {CONNECT_ROUTE} authorization CUSTOM"
    # AWS rejects an authorizer on any route but $connect, so NONE is the only deployable value.
    return verdict(kind == "NONE", evidence, f"NONE on {REFRESH}", REFRESH_NOTE)


def get_stage(dep: Deployment) -> dict[str, Any] | None:
    if "stage" not in dep.scratch:
        client = dep.clients("apigatewayv2")
        try:
            dep.scratch["stage"] = client.get_stage(ApiId=api_id(dep), StageName=dep.stage_name)
        except client.exceptions.NotFoundException:
            dep.scratch["stage"] = None
    return dep.scratch["stage"]


@check("api.stage")
def _stage(dep: Deployment) -> Outcome:
    stage = get_stage(dep)
    if stage is None:
        return failed(f"no stage {dep.stage_name}", f"stage {dep.stage_name} deployed")
    deployment, auto = stage.get("DeploymentId"), stage.get("AutoDeploy", False)
    return verdict(
        bool(deployment) or auto,
        f"stage {stage['StageName']}: deployment {deployment or 'none'}, auto-deploy {auto}",
        "a stage with a deployment",
    )


@check("api.throttling")
def _throttling(dep: Deployment) -> Outcome:
    stage = get_stage(dep)
    if stage is None:
        return skipped(f"no stage {dep.stage_name} (see api.stage)")
    settings = stage.get("DefaultRouteSettings", {})
    rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
    evidence = f"rate {rate}/s, burst {burst}"
    if dep.config is None:
        return verdict(bool(rate) and bool(burst), evidence, "rate and burst limits set")
    want = dep.config.throttling
    return verdict(
        rate is not None and float(rate) == want.rate_limit and burst == want.burst_limit,
        evidence,
        f"rate {want.rate_limit:g}/s, burst {want.burst_limit} (config)",
    )


def _execute_api_arn(dep: Deployment, path: str) -> str:
    return f"arn:aws:execute-api:{dep.region}:{dep.account or '*'}:{api_id(dep)}/{path}"


def _invokable_by_api(dep: Deployment, handler: str, source: str) -> bool:
    name = configuration(dep, handler)["FunctionName"]
    client = dep.clients("lambda")
    try:
        policy = json.loads(client.get_policy(FunctionName=name)["Policy"])
    except client.exceptions.ResourceNotFoundException:
        return False
    for statement in policy.get("Statement", []):
        principal = statement.get("Principal", {})
        service = principal.get("Service") if isinstance(principal, dict) else principal
        if statement.get("Effect") != "Allow" or service != "apigateway.amazonaws.com":
            continue
        if statement.get("Action") not in ("lambda:InvokeFunction", "lambda:*"):
            continue
        condition = statement.get("Condition", {}).get("ArnLike", {})
        pattern = condition.get("AWS:SourceArn") or condition.get("aws:SourceArn") or "*"
        if fnmatch.fnmatchcase(source, pattern):
            return True
    return False


@check("api.invoke-permissions")
def _invoke_permissions(dep: Deployment) -> Outcome:
    stage = dep.stage_name
    # One source per route: a function serving two routes ($default) must allow both.
    sources = [
        (route.function, _execute_api_arn(dep, f"{stage}/{key}"))
        for key, route in specs.ROUTES.items()
    ]
    authorizers = _authorizer_ids(dep) or ["*"]
    missing = list(
        dict.fromkeys(h for h, source in sources if not _invokable_by_api(dep, h, source))
    )
    if not all(
        _invokable_by_api(dep, specs.AUTHORIZER_FUNCTION, _execute_api_arn(dep, f"authorizers/{a}"))
        for a in authorizers
    ):
        missing.append(specs.AUTHORIZER_FUNCTION)
    if missing:
        return failed(
            "not invokable by this API: "
            + ", ".join(configuration(dep, h)["FunctionName"] for h in missing),
            "a resource policy letting apigateway.amazonaws.com invoke each function from this API",
        )
    return passed(
        f"apigateway.amazonaws.com may invoke all {len(specs.FUNCTIONS)} functions from this API"
    )


@check("api.management-permissions")
def _management_permissions(dep: Deployment) -> Outcome:
    missing, granted = [], []
    for handler, spec in specs.FUNCTIONS.items():
        statements = role_statements(dep, configuration(dep, handler)["Role"])
        for grant in spec.grants:
            if grant.target != specs.CONNECTIONS_API:
                continue
            for method in grant.actions:
                target = _execute_api_arn(dep, f"{dep.stage_name}/{method}/@connections/x")
                if allows(statements, "execute-api:ManageConnections", target):
                    granted.append(f"{handler} {method}")
                else:
                    missing.append(f"{handler} {method}")
    if missing:
        return failed(
            "execute-api:ManageConnections not allowed for: " + ", ".join(missing),
            f"ManageConnections on {api_id(dep)}/{dep.stage_name}/<method>/@connections/* "
            "for each handler's methods (the grants of session_service.specs)",
        )
    return passed(f"ManageConnections on {api_id(dep)}/{dep.stage_name}: {', '.join(granted)}")
