"""The taskcat project deploys the staging stack in another account and region, code included.

The staging stack is synthesized portable, turned into the taskcat project
(infra/taskcat_project.py), and the project's template is deployed with the local deployer (moto) in
us-west-2 of an account that is not staging's, its code read from a bucket laid out as taskcat
uploads the project (``<bucket>/<project name>/assets/``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from infra import taskcat_project
from infra.config import load_config
from local.deploy import deploy_stack
from session_service import specs
from tests.synthesis import Synthesized, synthesize

REPO_ROOT = Path(__file__).resolve().parents[2]
TASKCAT_CONFIG = REPO_ROOT / "taskcat" / ".taskcat.yml"
REGION = "us-west-2"


@pytest.fixture(scope="module")
def portable(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk-portable")
    return synthesize("staging", outdir, context={"portable": "true"})


@pytest.fixture(scope="module")
def project(portable: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("taskcat-project")
    taskcat_project.build_project(portable.assembly_dir, folder, portable.stack_name)
    return folder


def _template(project: Path) -> dict:
    return json.loads((project / "templates" / taskcat_project.TEMPLATE_NAME).read_text())


def test_the_taskcat_template_names_no_account_region_or_bootstrap_bucket(project: Path):
    staging = load_config("staging")
    text = (project / "templates" / taskcat_project.TEMPLATE_NAME).read_text()
    assert staging.account not in text
    assert f"execute-api:{staging.region}" not in text
    assert "cdk-hnb659fds" not in text
    template = json.loads(text)
    assert "BootstrapVersion" not in template["Parameters"]
    assert "CheckBootstrapVersion" not in template.get("Rules", {})


def test_every_function_reads_its_code_from_the_taskcat_bucket(project: Path):
    functions = {
        logical_id: resource["Properties"]["Code"]
        for logical_id, resource in _template(project)["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert functions
    for code in functions.values():
        assert code["S3Bucket"] == {"Ref": "AssetsBucket"}
        key = code["S3Key"]["Fn::Sub"]
        assert key.startswith("${AssetsKeyPrefix}")
        archive = project / "assets" / key.removeprefix("${AssetsKeyPrefix}")
        with zipfile.ZipFile(archive) as zipped:
            assert any(name.startswith("session_service/") for name in zipped.namelist())


def test_the_zips_hold_exactly_the_assets_files(portable: Synthesized, project: Path):
    manifest = json.loads(
        (portable.assembly_dir / f"{portable.stack_name}.assets.json").read_text()
    )
    for entry in manifest["files"].values():
        source = portable.assembly_dir / entry["source"]["path"]
        if not source.is_dir():
            continue
        [destination] = entry["destinations"].values()
        with zipfile.ZipFile(project / "assets" / destination["objectKey"]) as zipped:
            expected = sorted(
                p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()
            )
            assert sorted(zipped.namelist()) == expected


def test_the_taskcat_config_passes_the_bucket_and_prefix_taskcat_uploads_to():
    config = yaml.safe_load(TASKCAT_CONFIG.read_text())
    assert config["project"]["s3_regional_buckets"] is True
    assert config["project"]["parameters"] == {
        "AssetsBucket": "$[taskcat_autobucket]",
        "AssetsKeyPrefix": "$[taskcat_project_name]/assets/",
    }
    assert config["tests"]["staging"]["template"] == "templates/session-management.template.json"


@mock_aws
def test_the_taskcat_template_deploys_in_another_account_and_region(project: Path):
    config = yaml.safe_load(TASKCAT_CONFIG.read_text())
    prefix = f"{config['project']['name']}/assets/"
    bucket = "tcat-session-management-staging-us-west-2"
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for archive in (project / "assets").iterdir():
        s3.put_object(Bucket=bucket, Key=prefix + archive.name, Body=archive.read_bytes())

    deploy_stack(
        _template(project),
        stack_name="tcp-session-management-staging",
        region=REGION,
        parameters={"AssetsBucket": bucket, "AssetsKeyPrefix": prefix},
    )
    # Each function's code is the zip of the taskcat bucket its template names (moto reads the
    # object at create time: a key or bucket that is not there fails the stack).
    functions = {
        resource["Properties"]["FunctionName"]: resource["Properties"]["Code"]["S3Key"]["Fn::Sub"]
        for resource in _template(project)["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    lambda_ = boto3.client("lambda", region_name=REGION)
    for name, key in functions.items():
        archive = project / "assets" / key.removeprefix("${AssetsKeyPrefix}")
        digest = base64.b64encode(hashlib.sha256(archive.read_bytes()).digest()).decode()
        assert lambda_.get_function_configuration(FunctionName=name)["CodeSha256"] == digest
    assert len(functions) == len(specs.FUNCTIONS)


@mock_aws
def test_a_function_whose_code_is_not_where_the_parameters_say_has_none(project: Path):
    """The digest check above can fail: moto gives a function without its object no code."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="empty", CreateBucketConfiguration={"LocationConstraint": REGION})
    deploy_stack(
        _template(project),
        stack_name="no-code",
        region=REGION,
        parameters={"AssetsBucket": "empty", "AssetsKeyPrefix": "nothing/"},
    )
    digests = {
        base64.b64encode(hashlib.sha256(a.read_bytes()).digest()).decode()
        for a in (project / "assets").iterdir()
    }
    lambda_ = boto3.client("lambda", region_name=REGION)
    functions = lambda_.list_functions()["Functions"]
    assert functions
    assert not digests & {f["CodeSha256"] for f in functions}


def test_a_template_that_names_its_account_is_refused(
    synthesized_envs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    staging = synthesized_envs("staging")
    code = taskcat_project.main([str(staging.assembly_dir), str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "names its account and region" in err
    assert "--context portable=true" in err
    assert not (tmp_path / "templates").exists()
