"""Lambda bundles built without Docker: pip's platform-specific wheels plus the service package.

A bundle is a directory holding ``session_service`` and the third-party packages its handlers
import, built for the Lambda platform (Linux, arm64, CPython of the runtime) by
``pip install --platform ... --only-binary=:all:``. Versions come from ``requirements.lock``.
boto3 and botocore are not bundled: the Lambda runtime provides them.

Everything is cached under ``.build/``:

- ``.build/lambda-deps/<set>-<key>/``: the installed packages, keyed by the lock file's contents,
  the package set and the platform, so repeated synths and tests never download again;
- ``.build/lambda-bundles/<set>-<key>/``: packages + service code, keyed by the above and by the
  service code's contents. Each is written to a temporary directory and renamed into place, so
  concurrent synths never see a half-built bundle.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCK_FILE = REPO_ROOT / "requirements.lock"
SERVICE_PACKAGE_DIR = REPO_ROOT / "src" / "session_service"
BUILD_DIR = REPO_ROOT / ".build"

# The Lambda platform: arm64 functions on the Python 3.14 runtime.
PIP_PLATFORM = "manylinux2014_aarch64"
PIP_PYTHON_VERSION = "3.14"
PIP_IMPLEMENTATION = "cp"

# Packages the runtime provides; never bundled even if something pulls them in.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
# Files and directories never shipped with the service code.
_IGNORED_SOURCE = shutil.ignore_patterns(
    "__pycache__",
    "*.pyc",
    "*.pyo",
    "tests",
    "test_*.py",
    "*_test.py",
    ".pytest_cache",
    ".mypy_cache",
)
_IGNORED_DEPENDENCIES = ("bin", "__pycache__")


class BundlingError(RuntimeError):
    """A bundle could not be built (pip failed, or a pin is missing from the lock)."""


@dataclass(frozen=True)
class BundleSpec:
    """A named set of third-party packages (names as in requirements.lock)."""

    name: str
    packages: tuple[str, ...]


# authorizer: verifies Cognito JWTs; the others need Powertools only.
AUTHORIZER_BUNDLE = BundleSpec("authorizer", ("aws_lambda_powertools", "PyJWT", "cryptography"))
HANDLER_BUNDLE = BundleSpec("handlers", ("aws_lambda_powertools",))


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def locked_versions(lock_text: str) -> dict[str, str]:
    """``name -> version`` for every ``name==version`` line of the lock."""
    pins: dict[str, str] = {}
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[_normalise(name)] = version.strip()
    return pins


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_dir() or any(part in {"__pycache__", "tests"} for part in relative.parts):
            continue
        if path.suffix in {".pyc", ".pyo"}:
            continue
        digest.update(str(relative).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _atomic_build(target: Path, build: Callable[[Path], None]) -> Path:
    """Build into a temporary sibling of ``target`` and rename it into place (once)."""
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(scratch)
        try:
            scratch.rename(target)
        except OSError:
            if not target.is_dir():  # not a concurrent build that won the race
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def _install_dependencies(spec: BundleSpec, lock_text: str, lock_file: Path, into: Path) -> None:
    pins = locked_versions(lock_text)
    requirements = []
    for package in spec.packages:
        version = pins.get(_normalise(package))
        if version is None:
            raise BundlingError(f"{lock_file.name}: no pin for {package} (bundle {spec.name})")
        requirements.append(f"{package}=={version}")
    command = [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--platform", PIP_PLATFORM,
        "--implementation", PIP_IMPLEMENTATION,
        "--python-version", PIP_PYTHON_VERSION,
        "--only-binary=:all:",
        "--constraint", str(lock_file),
        "--target", str(into),
        *requirements,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BundlingError(
            f"pip could not install {', '.join(requirements)} for {PIP_PLATFORM} / CPython "
            f"{PIP_PYTHON_VERSION}: {detail[-1] if detail else 'exit ' + str(result.returncode)}"
        )
    for name in _IGNORED_DEPENDENCIES:
        shutil.rmtree(into / name, ignore_errors=True)
    for cache in into.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    leaked = sorted(p.name for p in into.iterdir() if p.name in RUNTIME_PROVIDED)
    if leaked:
        raise BundlingError(
            f"bundle {spec.name} would ship {', '.join(leaked)}, which the Lambda runtime provides"
        )


def dependencies_dir(
    spec: BundleSpec, *, lock_file: Path = LOCK_FILE, build_dir: Path = BUILD_DIR
) -> Path:
    """The cached directory of ``spec``'s packages for the Lambda platform (built if absent)."""
    lock_text = lock_file.read_text(encoding="utf-8")
    key = hashlib.sha256(
        "\n".join(
            (lock_text, *spec.packages, PIP_PLATFORM, PIP_IMPLEMENTATION, PIP_PYTHON_VERSION)
        ).encode()
    ).hexdigest()[:16]
    target = build_dir / "lambda-deps" / f"{spec.name}-{key}"
    return _atomic_build(target, lambda d: _install_dependencies(spec, lock_text, lock_file, d))


def bundle_dir(
    spec: BundleSpec,
    *,
    source_dir: Path = SERVICE_PACKAGE_DIR,
    lock_file: Path = LOCK_FILE,
    build_dir: Path = BUILD_DIR,
) -> Path:
    """A directory ready for ``Code.from_asset``: the packages of ``spec`` plus the service code."""
    if not (source_dir / "__init__.py").is_file():
        raise BundlingError(f"{source_dir}: not a Python package (no __init__.py)")
    dependencies = dependencies_dir(spec, lock_file=lock_file, build_dir=build_dir)
    key = hashlib.sha256(f"{dependencies.name}\n{_tree_digest(source_dir)}".encode()).hexdigest()[
        :16
    ]
    target = build_dir / "lambda-bundles" / f"{spec.name}-{key}"

    def build(scratch: Path) -> None:
        shutil.copytree(dependencies, scratch, dirs_exist_ok=True)
        shutil.copytree(source_dir, scratch / source_dir.name, ignore=_IGNORED_SOURCE)

    return _atomic_build(target, build)
