"""moto's server looks a host's backend up once, not on every request (local/moto_dispatch.py)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from local import moto_dispatch
from local.moto_server import MotoServer
from tests.local_env.moto_clients import client

DYNAMODB = "dynamodb.us-east-1.amazonaws.com"
STS = "sts.amazonaws.com"


def test_moto_still_lists_its_package_on_every_lookup() -> None:
    assert "list_of_moto_modules" in inspect.getsource(
        moto_dispatch._moto_lookup
    ), "moto no longer scans its package per lookup: drop local/moto_dispatch.py"


def test_a_hosts_backend_is_looked_up_once_and_is_motos_answer(monkeypatch: Any) -> None:
    moto_dispatch.install()
    scans = []
    listed = backends.list_of_moto_modules

    def counted() -> Any:
        scans.append(1)
        return listed()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    dispatcher = DomainDispatcherApplication(create_backend_app)
    expected = {h: moto_dispatch._moto_lookup(dispatcher, h) for h in (DYNAMODB, STS)}
    scans.clear()
    assert [dispatcher.get_backend_for_host(DYNAMODB) for _ in range(3)] == [expected[DYNAMODB]] * 3
    assert dispatcher.get_backend_for_host(STS) == expected[STS]
    assert expected == {DYNAMODB: "dynamodb", STS: "sts"}
    assert len(scans) == 2, "one scan per host, none for a host already seen"


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    moto = MotoServer()
    moto.start()
    yield moto
    moto.shutdown()


def test_the_server_routes_each_service_to_its_own_backend(server: MotoServer) -> None:
    dynamodb, sts = client(server, "dynamodb"), client(server, "sts")
    for _ in range(2):  # the second round is answered from the remembered lookups
        assert sts.get_caller_identity()["Account"] == "123456789012"
        assert isinstance(dynamodb.list_tables()["TableNames"], list)
