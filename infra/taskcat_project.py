"""The taskcat project: the portable staging template and its code, as taskcat uploads them.

``cdk deploy`` publishes a stack's Lambda code to the CDK bootstrap bucket of the stack's account
and region, and the template names that bucket. taskcat deploys a template in accounts and
regions of its own and uploads the project folder to a bucket it creates
(``$[taskcat_autobucket]``, one per region with ``s3_regional_buckets``); it publishes no CDK
assets. So ``make taskcat`` synthesizes the staging stack portable (no account or region: see
``infra/app.py``) and this module turns that cloud assembly into a taskcat project:

- every file asset the template references, zipped as the CDK CLI would zip it, under
  ``assets/<object key>``, which taskcat uploads to ``<bucket>/<project name>/assets/``;
- the template, with the bootstrap bucket replaced by the parameter ``AssetsBucket`` and every
  object key prefixed by ``AssetsKeyPrefix`` (``taskcat/.taskcat.yml`` sets both), and without
  the bootstrap version check, so the test account needs no CDK bootstrap.

Usage: ``python -m infra.taskcat_project ASSEMBLY_DIR PROJECT_DIR`` (what ``make taskcat`` runs).
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from session_service import constants

TEMPLATE_NAME = "session-management.template.json"
ASSETS_DIR = "assets"
BUCKET_PARAMETER = "AssetsBucket"
KEY_PREFIX_PARAMETER = "AssetsKeyPrefix"
# What CDK adds so that a deploy refuses an account without a recent bootstrap: taskcat's test
# account is not bootstrapped, and nothing in the portable template needs the bootstrap.
_BOOTSTRAP_PARAMETER = "BootstrapVersion"
_BOOTSTRAP_RULE = "CheckBootstrapVersion"
# Every zip entry gets this time, so the same sources give the same bytes (CDK does the same).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class TaskcatProjectError(Exception):
    """The assembly is not what the taskcat project can be made from."""


@dataclass(frozen=True)
class FileAsset:
    """A file asset of the assembly: where its source is and the bucket and key CDK gives it."""

    source: Path
    packaging: str
    bucket: str
    key: str


def _file_assets(assembly: Path, stack_name: str) -> list[FileAsset]:
    manifest_path = assembly / f"{stack_name}.assets.json"
    if not manifest_path.is_file():
        raise TaskcatProjectError(f"{manifest_path} not found: synthesize {stack_name} first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assets = []
    for entry in manifest.get("files", {}).values():
        for destination in entry["destinations"].values():
            assets.append(
                FileAsset(
                    source=assembly / entry["source"]["path"],
                    packaging=entry["source"].get("packaging", "file"),
                    bucket=destination["bucketName"],
                    key=destination["objectKey"],
                )
            )
    return assets


def _zip_directory(source: Path, target: Path) -> None:
    files = sorted(p for p in source.rglob("*") if p.is_file())
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=_ZIP_TIME)
            info.external_attr = (path.stat().st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def _rewrite(node: Any, buckets: set[str], keys: set[str], used: set[str]) -> Any:
    """``node`` with each asset's bucket a parameter and each of its keys prefixed."""
    if isinstance(node, list):
        return [_rewrite(item, buckets, keys, used) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1 and node.get("Fn::Sub") in buckets:  # the bootstrap bucket's name
        return {"Ref": BUCKET_PARAMETER}
    rewritten = {}
    for name, value in node.items():
        if name == "S3Key" and isinstance(value, str) and value in keys:
            used.add(value)
            rewritten[name] = {"Fn::Sub": f"${{{KEY_PREFIX_PARAMETER}}}{value}"}
        else:
            rewritten[name] = _rewrite(value, buckets, keys, used)
    return rewritten


def build_project(assembly: Path, project: Path, stack_name: str) -> list[str]:
    """Write ``project``'s template and assets from ``assembly``; return the asset keys."""
    template_path = assembly / f"{stack_name}.template.json"
    if not template_path.is_file():
        raise TaskcatProjectError(f"{template_path} not found: synthesize {stack_name} first")
    template = json.loads(template_path.read_text(encoding="utf-8"))
    assets = [a for a in _file_assets(assembly, stack_name) if a.source != template_path]
    buckets = {asset.bucket for asset in assets}
    if any("${AWS::" not in bucket for bucket in buckets):
        raise TaskcatProjectError(
            f"{stack_name} names its account and region ({', '.join(sorted(buckets))}); "
            "synthesize it with --context portable=true"
        )
    used: set[str] = set()
    rewritten = _rewrite(template, buckets, {asset.key for asset in assets}, used)
    leftover = [bucket for bucket in buckets if bucket.split("$")[0] in json.dumps(rewritten)]
    if leftover:
        raise TaskcatProjectError(f"the template still names {leftover[0]} outside a Code key")
    parameters = rewritten.setdefault("Parameters", {})
    parameters.pop(_BOOTSTRAP_PARAMETER, None)
    rules = rewritten.get("Rules", {})
    rules.pop(_BOOTSTRAP_RULE, None)
    if not rules:
        rewritten.pop("Rules", None)
    parameters[BUCKET_PARAMETER] = {
        "Type": "String",
        "Description": "Bucket holding the functions' code, in the stack's region",
    }
    parameters[KEY_PREFIX_PARAMETER] = {
        "Type": "String",
        "Default": "",
        "Description": "Key prefix of the code in AssetsBucket (taskcat: <project name>/assets/)",
    }

    assets_dir = project / ASSETS_DIR
    assets_dir.mkdir(parents=True, exist_ok=True)
    for stale in assets_dir.iterdir():
        stale.unlink()
    for asset in assets:
        if asset.key not in used:
            continue
        target = assets_dir / asset.key
        if asset.packaging == "zip" and asset.source.is_dir():
            _zip_directory(asset.source, target)
        else:
            target.write_bytes(asset.source.read_bytes())
    templates_dir = project / "templates"
    templates_dir.mkdir(parents=True, exist_ok=True)
    (templates_dir / TEMPLATE_NAME).write_text(json.dumps(rewritten, indent=1) + "\n")
    return sorted(used)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assembly", type=Path, help="cloud assembly of the portable synth")
    parser.add_argument("project", type=Path, help="taskcat project folder (holds .taskcat.yml)")
    parser.add_argument("--env", default="staging", help="environment whose stack it is")
    args = parser.parse_args(argv)
    stack_name = constants.STACK_NAME_TEMPLATE.format(env=args.env)
    try:
        keys = build_project(args.assembly, args.project, stack_name)
    except TaskcatProjectError as err:
        print(f"taskcat project: {err}", file=sys.stderr)
        return 1
    print(f"taskcat project: {args.project / 'templates' / TEMPLATE_NAME}, {len(keys)} code zips")
    return 0


if __name__ == "__main__":
    sys.exit(main())
