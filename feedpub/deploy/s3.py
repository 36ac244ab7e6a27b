"""The bucket, through boto3: list, read metadata, put, delete, and the deploy manifest.

Each object feedpub uploads carries the SHA-256 of its bytes in its user
metadata (``x-amz-meta-feedpub-sha256``): ETags are MD5s only for single-part
uploads, and some S3-compatible stores compute them otherwise. ListObjectsV2
does not return metadata, so a small manifest object (``MANIFEST_NAME`` under
the prefix, written last) records path → hash, size, ETag and headers; an
entry is trusted only while the listing shows the same size and ETag.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DeployError
from .plan import RemoteObject
from .settings import DeploySettings

if TYPE_CHECKING:
    from botocore.client import BaseClient

MANIFEST_NAME = ".feedpub-deploy.json.gz"  # gzip: ~1/10 the size, rewritten on each change
HASH_KEY = "feedpub-sha256"  # sent as x-amz-meta-feedpub-sha256
INSTALL_HINT = "deploying needs boto3: pip install 'feedpub[s3]'"
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


class Bucket:
    """One bucket and key prefix, with counters of the requests and body bytes sent."""

    def __init__(self, settings: DeploySettings) -> None:
        """Connect (lazily: no request is made here).

        Raises:
            ConfigError: boto3 is not installed, or no bucket is configured.
        """
        try:
            import boto3
            from botocore.config import Config as BotoConfig
            from botocore.exceptions import BotoCoreError
        except ImportError as e:
            raise ConfigError(INSTALL_HINT) from e
        if not settings.bucket:
            raise ConfigError("no bucket to deploy to: set bucket in [deploy] or pass --bucket")
        self.name = settings.bucket
        self.prefix = settings.prefix
        self.requests = 0
        self._manifest = b""  # as last read or written: an unchanged one is not rewritten
        self.bytes_sent = 0
        self._lock = threading.Lock()
        config = BotoConfig(
            s3={"addressing_style": "path" if settings.path_style else "auto"},
            max_pool_connections=settings.concurrency,
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            # Checksums only where the API requires them: S3-compatible stores
            # that predate the flexible checksums reject their headers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        try:
            session = boto3.session.Session(
                profile_name=settings.profile, region_name=settings.region
            )
            self._client: BaseClient = session.client(
                "s3", endpoint_url=settings.endpoint_url, config=config
            )
        except (BotoCoreError, ValueError) as e:  # an unknown profile, a malformed endpoint
            raise ConfigError(f"cannot set up the S3 client: {e}") from e
        self._client.meta.events.register("before-send.s3", self._count)

    def _count(self, request: Any, **_: object) -> None:
        size = int(request.headers.get("Content-Length") or 0)  # the body is a stream here
        with self._lock:
            self.requests += 1
            self.bytes_sent += size

    def _key(self, path: str) -> str:
        return self.prefix + path

    def list_objects(self) -> dict[str, RemoteObject]:
        """Every object under the prefix (ListObjectsV2, 1000 per request)."""
        found: dict[str, RemoteObject] = {}
        with _failures("list the bucket", self):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.name, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    path = item["Key"][len(self.prefix) :]
                    found[path] = RemoteObject(path, item["Size"], _etag(item["ETag"]))
        return found

    def read_manifest(self) -> dict[str, RemoteObject]:
        """The manifest of the last deploy; empty when missing or unreadable."""
        from botocore.exceptions import ClientError

        with _failures("read the deploy manifest", self):
            try:
                body = self._client.get_object(Bucket=self.name, Key=self._key(MANIFEST_NAME))
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return {}
                raise
            self._manifest = body["Body"].read()
        return parse_manifest(self._manifest)

    def head(self, path: str) -> RemoteObject:
        """One object's size, ETag, hash metadata and headers (HeadObject)."""
        with _failures(f"read the metadata of {self._key(path)}", self):
            head = self._client.head_object(Bucket=self.name, Key=self._key(path))
        return RemoteObject(
            path,
            head["ContentLength"],
            _etag(head["ETag"]),
            head.get("Metadata", {}).get(HASH_KEY),
            head.get("ContentType"),
            head.get("CacheControl"),
        )

    def put(
        self, path: str, data: bytes, sha256: str, content_type: str, cache_control: str
    ) -> RemoteObject:
        """Upload one file (PutObject: the object appears whole or not at all)."""
        with _failures(f"upload {self._key(path)}", self):
            answer = self._client.put_object(
                Bucket=self.name,
                Key=self._key(path),
                Body=data,
                ContentType=content_type,
                CacheControl=cache_control,
                Metadata={HASH_KEY: sha256},
            )
        return RemoteObject(
            path, len(data), _etag(answer["ETag"]), sha256, content_type, cache_control
        )

    def set_headers(
        self, path: str, size: int, sha256: str, content_type: str, cache_control: str
    ) -> RemoteObject:
        """New headers for an object whose bytes are current: a copy onto itself, no upload."""
        key = self._key(path)
        with _failures(f"update the headers of {key}", self):
            answer = self._client.copy_object(
                Bucket=self.name,
                Key=key,
                CopySource={"Bucket": self.name, "Key": key},
                MetadataDirective="REPLACE",
                ContentType=content_type,
                CacheControl=cache_control,
                Metadata={HASH_KEY: sha256},
            )
        etag = _etag(answer["CopyObjectResult"]["ETag"])
        return RemoteObject(path, size, etag, sha256, content_type, cache_control)

    def delete(self, paths: Iterable[str]) -> None:
        """Delete objects, 1000 per request (DeleteObjects)."""
        keys = [self._key(p) for p in paths]
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start : start + _DELETE_BATCH]
            with _failures("delete objects", self):
                answer = self._client.delete_objects(
                    Bucket=self.name,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise DeployError(
                    f"could not delete {len(errors)} object(s) from {self.name}, "
                    f"first {first.get('Key')}: {first.get('Code')} {first.get('Message', '')}"
                )

    def write_manifest(self, objects: Iterable[RemoteObject]) -> None:
        """Record what the bucket now holds; written last, after every upload."""
        data = render_manifest(objects)
        if data == self._manifest:
            return
        with _failures("write the deploy manifest", self):
            self._client.put_object(
                Bucket=self.name,
                Key=self._key(MANIFEST_NAME),
                Body=data,
                ContentType="application/gzip",
                CacheControl="no-store",
            )
        self._manifest = data


@contextmanager
def _failures(doing: str, bucket: Bucket) -> Iterator[None]:
    """Turn botocore's errors inside the block into a DeployError saying what failed."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as e:
        detail = e.response.get("Error", {})
        raise DeployError(
            f"cannot {doing} in bucket {bucket.name}: "
            f"{detail.get('Code', '?')} {detail.get('Message', '')}".rstrip()
        ) from e
    except BotoCoreError as e:
        raise DeployError(f"cannot {doing} in bucket {bucket.name}: {e}") from e


def _etag(value: str) -> str:
    return value.strip().strip('"')


def render_manifest(objects: Iterable[RemoteObject]) -> bytes:
    """The manifest's bytes: path → [sha256, size, etag, content type, cache control]."""
    files = {
        o.path: [o.sha256, o.size, o.etag, o.content_type, o.cache_control]
        for o in sorted(objects, key=lambda o: o.path)
    }
    text = json.dumps({"format": 1, "files": files}, indent=0)
    return gzip.compress(text.encode("utf-8"), mtime=0)  # mtime 0: same files, same bytes


def parse_manifest(data: bytes) -> dict[str, RemoteObject]:
    """Read a manifest; anything malformed counts as no manifest (metadata is the truth)."""
    try:
        document = json.loads(gzip.decompress(data))
    except (OSError, EOFError, ValueError, UnicodeDecodeError):  # gzip.BadGzipFile is an OSError
        return {}
    files = document.get("files") if isinstance(document, Mapping) else None
    if not isinstance(files, Mapping) or document.get("format") != 1:
        return {}
    objects: dict[str, RemoteObject] = {}
    for path, entry in files.items():
        if (
            isinstance(path, str)
            and isinstance(entry, list)
            and len(entry) == 5
            and all(isinstance(v, str) for i, v in enumerate(entry) if i != 1)
            and isinstance(entry[1], int)
        ):
            sha, size, etag, media_type, cache = entry
            objects[path] = RemoteObject(path, size, etag, sha, media_type, cache)
    return objects
