"""``apigatewayv2 get-authorizers`` in moto's server (moto 5.2.5 answers it with an error).

The checklist verifies the authorizer with ``aws apigatewayv2 get-authorizers --api-id …``; moto
routes ``GET /v2/apis/{apiId}/authorizers`` but has no action behind it, so every call fails and
logs a traceback. :func:`install` adds it as API Gateway answers it: the API's authorizers as
``items`` (404 ``NotFoundException`` for an unknown API). Installed by ``local/moto_server.py``;
``tests/local_env/test_moto_apigatewayv2.py`` fails once moto answers it itself, so this goes then.
"""

from __future__ import annotations

import json
from typing import Any

from moto.apigatewayv2.responses import ApiGatewayV2Response


def get_authorizers(self: ApiGatewayV2Response) -> tuple[int, dict[str, str], str]:
    """``GetAuthorizers``: every authorizer of the API (API Gateway pages; one page holds all)."""
    api_id = self.path.split("/")[-2]
    api: Any = self.apigatewayv2_backend.get_api(api_id)  # ApiNotFound -> 404
    items = [authorizer.to_json() for authorizer in api.authorizers.values()]
    return 200, {}, json.dumps({"items": items})


def moto_answers_it() -> bool:
    """Whether this moto has its own ``get_authorizers`` (then nothing is installed)."""
    own = ApiGatewayV2Response.__dict__.get("get_authorizers")
    return own is not None and own is not get_authorizers


def install() -> None:
    """Add ``get_authorizers`` to moto's API Gateway v2 responses (idempotent)."""
    if not moto_answers_it():
        ApiGatewayV2Response.get_authorizers = get_authorizers  # type: ignore[attr-defined]
