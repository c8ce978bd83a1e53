"""A real S3 API for tests: moto's standalone server on 127.0.0.1.

``S3Server`` is moto's ``ThreadedMotoServer`` (any credentials accepted), one per
session; each test gets a fresh bucket of its own (``S3Bucket``). ``DeniedS3`` is
moto run as a separate process with IAM enforced (``INITIAL_NO_AUTH_ACTION_COUNT``):
an identity whose policy lacks ``s3:PutObject`` gets a real ``AccessDenied`` on upload.
A process of its own, because moto's auth setting is process-wide and would otherwise
turn on for the shared server too.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"


# Any credentials do for the threaded server; dummies, never real ones.
ANY_KEY, ANY_SECRET = "AKIAMOTOTESTANYONE00", "moto-accepts-any"


def client(endpoint: str, key: str = ANY_KEY, secret: str = ANY_SECRET) -> S3Client:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


@dataclass(frozen=True)
class S3Bucket:
    """A bucket of one test, and a client to look into it (one that may do anything)."""

    name: str
    endpoint: str
    client: S3Client
    key_id: str = ""  # for a ``DeniedS3`` bucket: the access key id of the limited user

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.name}"

    def uri(self, *parts: str) -> str:
        """``s3://bucket/a/b`` for ``uri("a", "b")``."""
        return "/".join([self.s3_uri, *(p.strip("/") for p in parts)])

    @property
    def absent_uri(self) -> str:
        """The URI of a bucket that does not exist."""
        return f"s3://{self.name}-absent"

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def put(self, key: str, data: bytes | str) -> None:
        body = data.encode() if isinstance(data, str) else data
        self.client.put_object(Bucket=self.name, Key=key, Body=body)


def new_bucket_name() -> str:
    return f"adloom-test-{secrets.token_hex(6)}"


class S3Server:
    """moto's threaded server, in this process; any credentials are accepted."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request, else
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._client = client(self.endpoint)

    def bucket(self) -> S3Bucket:
        name = new_bucket_name()
        self._client.create_bucket(Bucket=name)
        return S3Bucket(name, self.endpoint, self._client)

    def stop(self) -> None:
        self._server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _policy(actions: list[str]) -> str:
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class DeniedS3:
    """moto as a process with IAM enforced: an admin made while auth was still off (the
    first three actions), then, per bucket, a user who may read and list but not put."""

    ALLOWED = ("s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation")

    def __init__(self) -> None:
        port = _free_port()
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.endpoint = f"http://127.0.0.1:{port}"
        self._ready()
        kw: dict[str, Any] = {"endpoint_url": self.endpoint, "region_name": REGION}
        iam = boto3.session.Session().client(
            "iam", aws_access_key_id=ANY_KEY, aws_secret_access_key=ANY_SECRET, **kw
        )
        iam.create_user(UserName="admin")
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=_policy(["*"]))
        self._admin = (key["AccessKeyId"], key["SecretAccessKey"])
        self._iam = boto3.session.Session().client(
            "iam", aws_access_key_id=self._admin[0], aws_secret_access_key=self._admin[1], **kw
        )
        self._s3 = client(self.endpoint, *self._admin)

    def _ready(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise RuntimeError("moto server (IAM enforced) did not start") from None
                time.sleep(0.05)

    def bucket(self) -> tuple[S3Bucket, str]:
        """(a new bucket, the secret key) with the access key id of a user who may not
        put objects in it (``S3Bucket.key_id``); ``S3Bucket.client`` is the admin's."""
        name = new_bucket_name()
        s3 = self._s3
        s3.create_bucket(Bucket=name)
        self._iam.create_user(UserName=name)
        self._iam.put_user_policy(
            UserName=name, PolicyName="no-put", PolicyDocument=_policy(list(self.ALLOWED))
        )
        key = self._iam.create_access_key(UserName=name)["AccessKey"]
        return S3Bucket(name, self.endpoint, s3, key["AccessKeyId"]), key["SecretAccessKey"]

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
