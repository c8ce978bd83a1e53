"""Shared fixtures: an AWS environment that never leaks in, and a fake Bedrock server.

Every test runs with AWS credentials, profiles and config files pointed at
nothing and the instance-metadata lookup disabled, so the developer's real AWS
setup never takes part and no test reaches for the network. ``fake_bedrock`` adds
dummy credentials, a region, and the ``AWS_ENDPOINT_URL_*`` variables that send
boto3 (real botocore: signing, serialisation, parsing) to a local fake server;
``s3`` a bucket of its own on a real S3 API (moto's server, ``s3server``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakebedrock import FakeBedrock
from s3server import DeniedS3, S3Bucket, S3Server

_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_SERVICE_QUOTAS",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_BEARER_TOKEN_BEDROCK",
)
# A dummy access key id for fakes run as a process (they accept any key).
FAKE_KEY_ID = "AKIAFAKEADLOOMTEST01"
FAKE_SECRET = "fake-secret-never-sent"  # noqa: S105 - a dummy, the point of the tests


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    nowhere = tmp_path_factory.getbasetemp() / "no-aws"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(nowhere / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


_SESSION: dict[str, str] = {}  # the session's folders (module-scoped fixtures use them)
_USER: dict[str, str] = {}  # this test's folders, set by ``_user_folders``


def pytest_configure(config: pytest.Config) -> None:
    """The user's config and cache folders are out of the way of any adloom process a
    test starts (which reads its environment as a user's shell gives it): a malformed
    ~/.config/adloom/models.json must not fail the suite. In-process adloom reads no
    environment variable but through the ``Env`` it is given (``user_environ``)."""
    session = Path(tempfile.mkdtemp(prefix="adloom-tests-user-"))
    config.add_cleanup(lambda: shutil.rmtree(session, ignore_errors=True))
    _SESSION.update(XDG_CONFIG_HOME=str(session / "config"), XDG_CACHE_HOME=str(session / "cache"))
    os.environ.pop("ADLOOM_MODELS", None)
    os.environ.update(_SESSION)


def user_environ() -> dict[str, str]:
    """The environment that gives adloom this test's own config and cache folders (the
    session's, outside a test): for ``Env(environ=user_environ())`` in-process, or
    added to a subprocess's environment. The user's own folders never take part (a
    malformed ~/.config/adloom/models.json or a cached quota must not change a test)."""
    return dict(_USER or _SESSION)


@pytest.fixture(autouse=True)
def _user_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fresh config and cache folders for each test, outside its ``tmp_path`` (which
    tests snapshot), handed to adloom through ``user_environ``."""
    home = tmp_path_factory.mktemp("user")
    _USER.update(XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
    yield
    _USER.clear()


def point_at(monkeypatch: pytest.MonkeyPatch, fake: FakeBedrock, region: str = "us-east-1") -> None:
    """Dummy credentials and the endpoint variables boto3 reads; no hard-coded endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", fake.key or FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", fake.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", fake.url)


@pytest.fixture
def fake_bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    """A fake of its own for each test (starting one takes milliseconds), answering
    only this test's access key id: requests still in flight when an earlier test
    ended, to a port reused since, are turned away instead of recorded here."""
    with FakeBedrock(key=f"AKIAFAKE{secrets.token_hex(6).upper()}") as fake:
        point_at(monkeypatch, fake)
        yield fake
    assert not fake.state.errors, f"the fake itself failed: {fake.state.errors}"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server, kept for the session (it is cheap to keep, not to start)."""
    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Bucket:
    """A fresh bucket on the session's S3, which ``AWS_ENDPOINT_URL_S3`` points at (boto3
    and the fake Bedrock's batch jobs read it). ``s3.absent_uri``: a bucket that does
    not exist. Dummy credentials when the test has none yet (this S3 takes any)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server.endpoint)
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return s3_server.bucket()


@pytest.fixture(scope="session")
def denied_s3_server() -> Iterator[DeniedS3]:
    server = DeniedS3()
    yield server
    server.stop()


@pytest.fixture
def s3_denied(
    denied_s3_server: DeniedS3, fake_bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> S3Bucket:
    """A bucket the test's identity may read and list but not write (a real
    ``AccessDenied`` on PutObject): the AWS credentials are that IAM user's, and
    ``fake_bedrock`` answers them. ``s3_denied.client`` may do anything, for asserts."""
    bucket, secret = denied_s3_server.bucket()
    fake_bedrock.key = fake_bedrock.state.only_key = bucket.key_id
    point_at(monkeypatch, fake_bedrock)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", bucket.endpoint)
    return bucket
