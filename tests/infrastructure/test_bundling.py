"""Lambda bundles: pip's platform wheels for arm64 / CPython 3.14, cached under .build/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from infra import bundling
from infra.bundling import AUTHORIZER_BUNDLE, HANDLER_BUNDLE, bundle_dir, locked_versions

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def authorizer_bundle() -> Path:
    return bundle_dir(AUTHORIZER_BUNDLE)


@pytest.fixture(scope="module")
def handler_bundle() -> Path:
    return bundle_dir(HANDLER_BUNDLE)


def test_authorizer_bundle_holds_pyjwt_and_cryptography_for_linux_arm64(
    authorizer_bundle: Path,
) -> None:
    assert (authorizer_bundle / "jwt" / "__init__.py").is_file()
    rust_bindings = list((authorizer_bundle / "cryptography" / "hazmat" / "bindings").glob("*.so"))
    assert rust_bindings, "cryptography's compiled bindings are missing"
    assert all("abi3" in p.name for p in rust_bindings)
    cffi = list(authorizer_bundle.glob("_cffi_backend.cpython-314-aarch64-linux-gnu.so"))
    assert cffi, "cffi must be the CPython 3.14 aarch64 build"
    versions = locked_versions(bundling.LOCK_FILE.read_text())
    assert (authorizer_bundle / f"cryptography-{versions['cryptography']}.dist-info").is_dir()
    assert (authorizer_bundle / f"pyjwt-{versions['pyjwt']}.dist-info").is_dir()


def test_bundles_hold_powertools_and_the_service_package(
    authorizer_bundle: Path, handler_bundle: Path
) -> None:
    for bundle in (authorizer_bundle, handler_bundle):
        assert (bundle / "aws_lambda_powertools" / "__init__.py").is_file()
        assert (bundle / "session_service" / "constants.py").is_file()


def test_handler_bundle_leaves_out_the_authorizer_only_packages(handler_bundle: Path) -> None:
    assert not (handler_bundle / "jwt").exists()
    assert not (handler_bundle / "cryptography").exists()


def test_bundles_leave_out_what_the_runtime_provides_and_caches(
    authorizer_bundle: Path, handler_bundle: Path
) -> None:
    for bundle in (authorizer_bundle, handler_bundle):
        for provided in ("boto3", "botocore", "s3transfer"):
            assert not (bundle / provided).exists(), provided
        assert not list(bundle.rglob("__pycache__"))
        assert not list(bundle.rglob("*.pyc"))
        assert not (bundle / "bin").exists()
        assert not (bundle / "session_service" / "tests").exists()


def test_repeated_bundling_reuses_the_cache_without_pip(
    authorizer_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran although the lock did not change")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert bundle_dir(AUTHORIZER_BUNDLE) == authorizer_bundle


def test_a_source_change_makes_a_new_bundle_from_the_cached_packages(
    handler_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = bundling.dependencies_dir(HANDLER_BUNDLE)
    build_dir = tmp_path / "build"
    shutil.copytree(cached, build_dir / "lambda-deps" / cached.name)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip ran again"))
    source = tmp_path / "session_service"
    source.mkdir()
    (source / "__init__.py").write_text("")
    first = bundle_dir(HANDLER_BUNDLE, source_dir=source, build_dir=build_dir)
    (source / "module.py").write_text("VALUE = 1\n")
    second = bundle_dir(HANDLER_BUNDLE, source_dir=source, build_dir=build_dir)
    assert first != second
    assert (second / "session_service" / "module.py").is_file()
    assert not (first / "session_service" / "module.py").exists()
    assert (second / "aws_lambda_powertools").is_dir()


def test_a_package_missing_from_the_lock_is_a_clear_error(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("PyJWT==2.15.1\n")
    with pytest.raises(bundling.BundlingError, match="no pin for aws_lambda_powertools"):
        bundling.dependencies_dir(HANDLER_BUNDLE, lock_file=lock, build_dir=tmp_path / "build")
