"""A boto3 client of a running :class:`local.moto_server.MotoServer` (dummy credentials)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from local.moto_server import MotoServer


def client(server: MotoServer, service: str, **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config) if config else None,
    )
