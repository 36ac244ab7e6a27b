"""One deploy: scan → ask the bucket → plan → upload by phase → manifest → delete → tell.

Uploads run in a bounded pool, one phase at a time; a failed upload stops
the deploy before the next phase, so the bucket never shows a feed or an
index pointing at a file that is not there. Objects already uploaded are
complete (PutObject is atomic) and the next deploy finds them current.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from ..errors import DeployError
from ..lock import output_lock
from .hook import changed_urls, run_invalidate
from .plan import Plan, RemoteObject, Upload, plan_deploy, scan_output, trust_manifest
from .s3 import Bucket
from .settings import DeploySettings, FileKind

# Called with (files uploaded so far, files to upload).
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class DeployReport:
    """What a deploy did (or, with ``dry_run``, would do)."""

    bucket: str
    prefix: str
    uploaded: tuple[str, ...]  # bytes sent: new or changed files
    deleted: tuple[str, ...]
    unchanged: tuple[str, ...]
    requests: int  # requests sent to the bucket, retries included
    bytes_sent: int  # request body bytes
    metadata_reads: int = 0  # HEAD requests: objects the manifest could not vouch for
    dry_run: bool = False
    reasons: tuple[str, ...] = ()  # per uploaded path: new or changed
    headers_updated: tuple[str, ...] = ()  # same bytes, new headers: copied in place
    pinged: tuple[str, ...] = ()  # feed URLs announced to the WebSub hubs
    warnings: tuple[str, ...] = ()  # hubs that could not be told

    def to_dict(self) -> dict[str, object]:
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "dry_run": self.dry_run,
            "uploaded": [
                {"path": p, "reason": r} for p, r in zip(self.uploaded, self.reasons, strict=True)
            ],
            "headers_updated": list(self.headers_updated),
            "deleted": list(self.deleted),
            "unchanged": list(self.unchanged),
            "requests": self.requests,
            "bytes_sent": self.bytes_sent,
            "metadata_reads": self.metadata_reads,
            "pinged": list(self.pinged),
            "warnings": list(self.warnings),
        }


def deploy_folder(
    out: Path,
    settings: DeploySettings,
    base_url: str,
    *,
    dry_run: bool = False,
    hubs: Sequence[str] = (),
    wait_seconds: float = 0,
    progress: Progress | None = None,
) -> DeployReport:
    """Bring ``s3://bucket/prefix`` to hold exactly the output folder ``out``.

    ``base_url`` is where the bucket's prefix is served: it makes the URLs
    given to the WebSub ``hubs`` (the feeds uploaded) and to the invalidate
    command (the files replaced or deleted).

    Raises:
        ConfigError: boto3 is missing or no bucket is configured.
        DeployError: the bucket cannot be read or written, more than
            ``max_deletes`` objects would be deleted (nothing is then changed),
            or the invalidate command failed.
        LockError: a build held the output folder for longer than ``wait_seconds``.
    """
    if not out.is_dir():
        raise DeployError(f"nothing to deploy: {out} is not a folder (run `feedpub build` first)")
    with output_lock(out, wait_seconds):
        local = scan_output(out, settings.cache_control)
        bucket = Bucket(settings)
        listed = bucket.list_objects()
        wanted = {f.path for f in local}
        known, ask = trust_manifest(listed, bucket.read_manifest(), wanted)
        known.update((o.path, o) for o in _in_pool(settings.concurrency, bucket.head, ask))
        plan = plan_deploy(local, known)
        if len(plan.deletes) > settings.max_deletes and not dry_run:
            raise DeployError(
                f"refusing to delete {len(plan.deletes)} objects from {bucket.name}/"
                f"{bucket.prefix} (more than --max-deletes {settings.max_deletes}); nothing "
                "was changed. Check the prefix and output folder, or raise --max-deletes"
            )
        if dry_run:
            return _report(bucket, plan, len(ask), dry_run=True)
        current = {path: known[path] for path in plan.unchanged}
        _upload(bucket, out, plan, settings.concurrency, progress, current)
        bucket.write_manifest(current.values())
        bucket.delete(plan.deletes)
    # The CDN first: a hub fetches the feed as soon as it is told, through the CDN.
    replaced = [u.file.path for u in plan.uploads if u.reason != "new"] + list(plan.deletes)
    failed: DeployError | None = None
    if settings.invalidate and replaced:
        try:
            run_invalidate(
                settings.invalidate,
                changed_urls(base_url, replaced),
                {"FEEDPUB_BUCKET": bucket.name, "FEEDPUB_PREFIX": bucket.prefix},
            )
        except DeployError as e:
            failed = e  # the feeds are public all the same: tell the hubs, then fail
    feeds = _feed_urls(base_url, plan.uploads) if hubs else []
    warnings: list[str] = []
    if feeds:
        from ..websub import ping_hubs

        warnings = ping_hubs(hubs, feeds)
    if failed is not None:
        raise failed
    return _report(bucket, plan, len(ask), pinged=feeds, warnings=warnings)


def _report(
    bucket: Bucket,
    plan: Plan,
    metadata_reads: int,
    *,
    dry_run: bool = False,
    pinged: Sequence[str] = (),
    warnings: Sequence[str] = (),
) -> DeployReport:
    return DeployReport(
        bucket=bucket.name,
        prefix=bucket.prefix,
        uploaded=tuple(u.file.path for u in plan.uploads if u.reason != "headers"),
        reasons=tuple(u.reason for u in plan.uploads if u.reason != "headers"),
        headers_updated=tuple(u.file.path for u in plan.uploads if u.reason == "headers"),
        deleted=plan.deletes,
        unchanged=plan.unchanged,
        requests=bucket.requests,
        bytes_sent=bucket.bytes_sent,
        metadata_reads=metadata_reads,
        dry_run=dry_run,
        pinged=tuple(pinged),
        warnings=tuple(warnings),
    )


def _feed_urls(base_url: str, uploads: Sequence[Upload]) -> list[str]:
    """The subscription feeds among the uploads (WebSub § 7: the topic URLs that changed)."""
    return [
        base_url + u.file.path
        for u in uploads
        if u.file.kind is FileKind.FEED
        and u.reason != "headers"
        and not u.file.path.endswith(".opml")
    ]


def _upload(
    bucket: Bucket,
    out: Path,
    plan: Plan,
    concurrency: int,
    progress: Progress | None,
    current: dict[str, RemoteObject],
) -> None:
    """Upload phase after phase; ``current`` gains each object as it lands."""
    done = 0
    total = len(plan.uploads)
    if progress is not None and total:
        progress(0, total)

    def put(upload: Upload) -> RemoteObject:
        file = upload.file
        if upload.reason == "headers":
            return bucket.set_headers(
                file.path, file.size, file.sha256, file.content_type, file.cache_control
            )
        try:
            data = (out / file.path).read_bytes()
        except OSError as e:
            raise DeployError(f"cannot read {out / file.path}: {e.strerror or e}") from e
        return bucket.put(file.path, data, file.sha256, file.content_type, file.cache_control)

    with ThreadPoolExecutor(concurrency) as pool:
        for _phase, group in groupby(plan.uploads, key=lambda u: u.file.phase):
            futures: list[Future[RemoteObject]] = [pool.submit(put, u) for u in group]
            pending: set[Future[RemoteObject]] = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    error = future.exception()
                    if error is not None:
                        for other in pending:
                            other.cancel()
                        wait(pending)
                        if not isinstance(error, DeployError):
                            raise error  # a bug: its own traceback
                        raise DeployError(
                            f"{error} ({done} of {total} files uploaded; "
                            "the rest, the index and the deletions were not, "
                            "and the next deploy carries on)"
                        ) from error
                    obj = future.result()
                    current[obj.path] = obj
                    done += 1
                    if progress is not None:
                        progress(done, total)


def _in_pool(
    concurrency: int, job: Callable[[str], RemoteObject], paths: Sequence[str]
) -> list[RemoteObject]:
    if not paths:
        return []
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(job, paths))
