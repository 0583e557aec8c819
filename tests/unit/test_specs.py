"""The registry of functions and routes and the protocol vocabulary hold together."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from session_service import constants as c
from session_service import exceptions, protocol, specs
from session_service.config import _LOADERS


def test_every_function_has_a_settings_loader_and_no_loader_is_left_over() -> None:
    assert set(_LOADERS) == set(specs.FUNCTIONS)


def test_every_route_is_served_by_a_function_of_the_registry() -> None:
    assert {route.function for route in specs.ROUTES.values()} <= set(specs.FUNCTIONS)


def test_every_message_action_has_its_route_and_connect_alone_is_authorized() -> None:
    message_routes = {key for key in specs.ROUTES if not key.startswith("$")}
    assert message_routes == set(protocol.MESSAGE_ACTIONS)
    authorized = {key for key, route in specs.ROUTES.items() if route.authorized}
    assert authorized == {protocol.CONNECT_ROUTE}


def test_function_names_logical_ids_and_output_ids_are_unique() -> None:
    functions = list(specs.FUNCTIONS.values())
    for field in ("name_template", "construct_id", "output_id", "entry_point"):
        values = [getattr(spec, field) for spec in functions]
        assert len(set(values)) == len(values), field
    route_ids = [route.construct_id for route in specs.ROUTES.values()]
    assert len(set(route_ids)) == len(route_ids)


def test_a_function_reads_the_common_variables_and_only_known_ones() -> None:
    known = {value for name, value in vars(c).items() if name.startswith("ENV_")}
    for spec in specs.FUNCTIONS.values():
        assert set(specs.COMMON_ENVIRONMENT) <= set(spec.environment), spec.key
        assert set(spec.environment) <= known, spec.key


def test_grants_name_known_targets() -> None:
    targets = set(c.TABLES) | set(specs.INDEXES) | {specs.CONNECTIONS_API}
    for spec in specs.FUNCTIONS.values():
        assert {grant.target for grant in spec.grants} <= targets, spec.key


def test_every_error_code_has_a_status_and_every_refusal_takes_it_from_the_table() -> None:
    assert set(protocol.ERROR_STATUS) == set(protocol.ErrorCode)
    refusals = [exceptions.ServiceError, *exceptions.ServiceError.__subclasses__()]
    for refusal in refusals:
        assert refusal.status == protocol.ERROR_STATUS[refusal.code], refusal.__name__
    assert {refusal.code for refusal in refusals} == set(protocol.ErrorCode)


def test_protocol_words_read_as_their_strings() -> None:
    word = protocol.Action.REFRESH_CONNECTION
    assert repr(word) == repr("refreshConnection")
    assert f"{word}" == "refreshConnection"
    assert json.dumps({"action": word}) == '{"action": "refreshConnection"}'


@pytest.mark.parametrize("module", ["protocol", "specs"])
def test_registry_modules_import_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, json; import session_service.{module}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'aws_cdk', 'aws_lambda_powertools', 'jwt'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_every_index_grant_names_an_index_of_its_table() -> None:
    for table, index in specs.INDEXES.values():
        assert index in [shape["name"] for shape in c.TABLES[table]["indexes"]], index  # type: ignore[attr-defined]
