"""The CDK app: ``cdk synth --context env=dev`` (or staging, prod, local).

``--context portable=true`` synthesizes the environment's stack without its account and region
(an environment-agnostic template), which ``make taskcat`` deploys in a test account.

The environment's configuration is validated before any construct is built; a bad value stops
synth with one line naming the file, the field and what is expected. cdk-nag's AwsSolutions
checks run as a validation plugin, so a finding that is not acknowledged fails the synth.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import ConfigError, ConfigWarning, load_config_from_context
from infra.stack import SessionManagementStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def feature_flags() -> dict[str, Any]:
    """The context of cdk.json (feature flags), so in-process synths match ``cdk synth``."""
    return dict(json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {}))


def build_app(
    env: str | None = None,
    *,
    config_dir: Path | None = None,
    context: dict[str, Any] | None = None,
    outdir: str | None = None,
) -> tuple[App, SessionManagementStack]:
    """The app with the stack of ``env`` (default: the ``env`` context key)."""
    app_context = {**feature_flags(), **(context or {})}
    if env is not None:
        app_context["env"] = env
    app = App(context=app_context, outdir=outdir)
    config = load_config_from_context(
        app.node.try_get_context("env"), app.node.try_get_context, config_dir
    )
    portable = str(app.node.try_get_context("portable") or "").lower() in {"1", "true", "yes"}
    stack = SessionManagementStack(app, config=config, portable=portable)
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
    return app, stack


def main() -> int:
    # The stack reports configuration adjustments as synth warnings (annotations); the Python
    # warning would say the same once more.
    warnings.simplefilter("ignore", ConfigWarning)
    try:
        app, _ = build_app()
    except ConfigError as err:
        print(f"ConfigError: {err}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
