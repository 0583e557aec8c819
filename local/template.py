"""The synthesized ``SessionManagement-local`` template: synthesized by the CDK app in ``infra/``.

Synthesis takes several seconds, and the Cognito pool's ids (which the template carries) are new
on every start. So the template is synthesized with fixed stand-in ids, kept in ``cdk.out/local``
with a fingerprint of its inputs, synthesized again only when an input changed, and the stand-in
ids are replaced by the real ones before each deployment.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from session_service import constants

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
CLOUD_ASSEMBLY = REPO_ROOT / "cdk.out" / "local"
STACK_NAME = constants.STACK_NAME_TEMPLATE.format(env="local")
# Stand-in Cognito ids the template is synthesized with (valid in form, unique in the text).
SYNTH_USER_POOL_ID = "us-east-1_LocalSynthPool0"
SYNTH_APP_CLIENT_ID = "LocalSynthAppClient0"
_FINGERPRINT_FILE = ".local-synth.json"
_INPUTS = ("infra", "src/session_service", "cdk.json", "requirements.lock", "package-lock.json")


class SynthError(RuntimeError):
    pass


def inputs_fingerprint(root: Path = REPO_ROOT) -> str:
    """A hash of everything synthesis reads: the CDK app, its config, the service code."""
    digest = hashlib.sha256()
    for name in _INPUTS:
        path = root / name
        files = [path] if path.is_file() else sorted(path.rglob("*")) if path.exists() else []
        for file in files:
            if not file.is_file() or "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def synthesize(output: Path = CLOUD_ASSEMBLY, force: bool = False) -> Path:
    """Synthesize the local stack into ``output`` unless an up-to-date synthesis is there."""
    template_path = output / f"{STACK_NAME}.template.json"
    stamp = output / _FINGERPRINT_FILE
    fingerprint = inputs_fingerprint()
    wanted = {
        "fingerprint": fingerprint,
        "userPoolId": SYNTH_USER_POOL_ID,
        "appClientId": SYNTH_APP_CLIENT_ID,
    }
    if not force and template_path.exists() and stamp.exists():
        try:
            fresh = json.loads(stamp.read_text()) == wanted
        except ValueError:
            fresh = False
        # Someone may have synthesized into the same directory without the stand-in ids.
        if fresh and SYNTH_USER_POOL_ID in template_path.read_text():
            logger.info("template up to date: %s", template_path.relative_to(REPO_ROOT))
            return template_path
    cdk = REPO_ROOT / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        raise SynthError(f"{cdk} not found: run `make install` first")
    command = [
        str(cdk),
        "synth",
        "--quiet",
        "--context",
        "env=local",
        "--context",
        f"userPoolId={SYNTH_USER_POOL_ID}",
        "--context",
        f"appClientId={SYNTH_APP_CLIENT_ID}",
        "--output",
        str(output),
        STACK_NAME,
    ]
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_CLI_NOTICES": "false",
    }
    logger.info("synthesizing %s (cdk synth --context env=local) …", STACK_NAME)
    started = time.monotonic()
    stamp.unlink(missing_ok=True)
    result = subprocess.run(  # noqa: S603 (the repository's own CDK CLI)
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not template_path.exists():
        raise SynthError(f"cdk synth failed ({result.returncode}):\n{result.stderr[-4000:]}")
    stamp.write_text(json.dumps(wanted))
    logger.info("synthesized in %.1f s", time.monotonic() - started)
    return template_path


def load_template(template_path: Path, user_pool_id: str, app_client_id: str) -> dict[str, Any]:
    """The synthesized template with the emulator's Cognito ids in place of the stand-ins."""
    text = template_path.read_text()
    for placeholder in (SYNTH_USER_POOL_ID, SYNTH_APP_CLIENT_ID):
        if placeholder not in text:
            raise SynthError(f"{template_path} does not carry the stand-in id {placeholder}")
    text = text.replace(SYNTH_USER_POOL_ID, user_pool_id).replace(
        SYNTH_APP_CLIENT_ID, app_client_id
    )
    template: dict[str, Any] = json.loads(text)
    return template
