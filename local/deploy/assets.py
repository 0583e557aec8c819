"""Code assets published where the template expects them, as ``cdk-assets`` and ``cdk bootstrap``
leave them: the bootstrap bucket, the zipped asset directories, the bootstrap version parameter.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local.deploy.clients import Clients, DeployError

logger = logging.getLogger("local.deploy")  # one logger for the whole deployer

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSET_CACHE = REPO_ROOT / ".build" / "local-assets"
CDK_BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
CDK_BOOTSTRAP_VERSION = "30"


def bootstrap(clients: Clients) -> None:
    """What ``cdk bootstrap`` leaves in an account that the template checks: its version."""
    ssm = clients("ssm")
    try:
        ssm.get_parameter(Name=CDK_BOOTSTRAP_VERSION_PARAMETER)
    except ClientError:
        ssm.put_parameter(
            Name=CDK_BOOTSTRAP_VERSION_PARAMETER, Value=CDK_BOOTSTRAP_VERSION, Type="String"
        )


def publish_assets(clients: Clients, cloud_assembly: Path, stack_name: str, account: str) -> None:
    """Upload the stack's file assets where the template expects them (``cdk-assets publish``)."""
    manifest_path = cloud_assembly / f"{stack_name}.assets.json"
    if not manifest_path.exists():
        raise DeployError(f"no asset manifest {manifest_path}")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("dockerImages"):
        raise DeployError("docker image assets cannot be deployed locally")
    s3 = clients("s3")
    for asset_id, asset in manifest.get("files", {}).items():
        source = asset["source"]
        if "path" not in source:
            raise DeployError(f"asset {asset_id}: only path sources are supported")
        body = _asset_bytes(cloud_assembly / source["path"], source.get("packaging"), asset_id)
        for destination in asset["destinations"].values():
            bucket = _placeholders(destination["bucketName"], account, clients.region)
            key = _placeholders(destination["objectKey"], account, clients.region)
            _ensure_bucket(s3, bucket, clients.region)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            logger.debug("published asset %s to s3://%s/%s", asset_id, bucket, key)


def _placeholders(text: str, account: str, region: str) -> str:
    return (
        text.replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
        .replace("${AWS::Partition}", "aws")
    )


def _ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )


def _asset_bytes(path: Path, packaging: str | None, asset_id: str) -> bytes:
    if packaging != "zip" or path.is_file():
        return path.read_bytes()
    # The asset id is a hash of the directory's contents: a zip made once can be reused.
    cached = ASSET_CACHE / f"{asset_id}.zip"
    if cached.exists():
        return cached.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = Path(root) / name
                archive.write(full, full.relative_to(path).as_posix())
    data = buffer.getvalue()
    ASSET_CACHE.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(cached)
    return data
