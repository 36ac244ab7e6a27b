"""``feedpub deploy`` against a real S3-compatible server (moto's, a separate process).

Every test speaks boto3 over HTTP to the server on 127.0.0.1, with dummy
credentials from the environment, and reads back what landed in the bucket.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.config import Config as BotoConfig

from feedpub.cli import EXIT_DEPLOY, main
from feedpub.deploy.plan import (
    LocalFile,
    Phase,
    RemoteObject,
    classify,
    plan_deploy,
    trust_manifest,
)
from feedpub.deploy.settings import DEFAULT_CACHE_CONTROL, FileKind, parse_deploy_settings
from feedpub.errors import ConfigError
from feedpub.servefiles import content_type
from tests.conftest import REPO, article_text
from tests.s3server import S3Front, S3Server

BASE_URL = "https://news.example.org/feeds/"
PREFIX = "site/feeds/"
MANIFEST_KEY = PREFIX + ".feedpub-deploy.json.gz"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials, and no shared AWS files of the machine's user."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=BotoConfig(s3={"addressing_style": "path"}),
    )


@pytest.fixture
def bucket(s3: S3Server) -> str:
    name = f"feeds-{uuid.uuid4().hex[:12]}"
    s3_client(s3.url).create_bucket(Bucket=name)
    return name


class Site:
    """A temporary site with a config.toml deploying to one bucket of the test server."""

    def __init__(self, root: Path, bucket: str, endpoint: str, capsys: Any) -> None:
        self.root = root
        self.out = root / "out"
        self.news = root / "src" / "_news"
        self.news.mkdir(parents=True)
        self.bucket = bucket
        self.endpoint = endpoint
        self.capsys = capsys
        self.extra = ""
        for i in range(5):
            self.add(i)
        self.write_config()

    def add(self, i: int, topics: list[str] | None = None) -> None:
        (self.news / f"2024-05-{i + 1:02d}-story-{i}.md").write_text(
            article_text(
                title=f"Story {i}",
                url=f"https://a.example/{i}",
                date=f"2024-05-{i + 1:02d}T10:00:00Z",
                topics=topics or (["AI"] if i % 2 else ["AI", "Space"]),
                domain="one.example" if i < 3 else "two.example",
            ),
            encoding="utf-8",
        )

    def write_config(self, extra: str = "") -> None:
        self.extra = extra or self.extra
        (self.root / "config.toml").write_text(
            f"""title = "Deploy test"
base_url = "{BASE_URL}"
source = ["src"]
out = "out"
state = "state.sqlite"
max_items = 2
archives = true
{self.extra}
[deploy]
bucket = "{self.bucket}"
endpoint_url = "{self.endpoint}"
path_style = true
prefix = "{PREFIX}"
""",
            encoding="utf-8",
        )

    def run(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([args[0], "--config", str(self.root / "config.toml"), *args[1:]])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def run_json(self, *args: str) -> dict[str, Any]:
        code, out, err = self.run(*args, "--json")
        assert code == 0, err
        document: dict[str, Any] = json.loads(out)
        return document

    def local_files(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.out).as_posix(): p.read_bytes()
            for p in sorted(self.out.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        }


@pytest.fixture
def site(tmp_path: Path, bucket: str, s3: S3Server, capsys: pytest.CaptureFixture[str]) -> Site:
    return Site(tmp_path, bucket, s3.url, capsys)


def bucket_keys(client: Any, bucket: str) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", ())}


def uploaded(document: dict[str, Any]) -> list[str]:
    return [u["path"] for u in document["uploaded"]]


def test_every_file_lands_with_its_headers_hash_and_bytes(site: Site, s3: S3Server) -> None:
    assert site.run("build")[0] == 0
    report = site.run_json("deploy")
    local = site.local_files()
    assert sorted(uploaded(report)) == sorted(local)
    assert report["deleted"] == [] and report["unchanged"] == []
    client = s3_client(s3.url)
    # Hidden files (lock, build manifest) stay home; the deploy manifest is the one extra.
    assert bucket_keys(client, site.bucket) == {PREFIX + p for p in local} | {MANIFEST_KEY}
    assert (site.out / ".feedpub-manifest.json").is_file()
    newest = max(int(p.split("/")[1]) for p in local if p.startswith("archive/"))
    for path, data in local.items():
        got = client.get_object(Bucket=site.bucket, Key=PREFIX + path)
        assert got["Body"].read() == data, path
        assert got["ContentType"] == content_type(PurePosixPath(path).name), path
        assert got["Metadata"] == {"feedpub-sha256": hashlib.sha256(data).hexdigest()}, path
        if path in ("rss.xml", "topics/ai/atom.xml", "index.opml"):
            expected = DEFAULT_CACHE_CONTROL[FileKind.FEED]
        elif path.endswith("index.html"):
            expected = DEFAULT_CACHE_CONTROL[FileKind.PAGE]
        elif path == "feed.xsl":
            expected = DEFAULT_CACHE_CONTROL[FileKind.STYLESHEET]
        elif path.startswith(f"archive/{newest}/"):
            expected = DEFAULT_CACHE_CONTROL[FileKind.ARCHIVE_NEWEST]
        elif path.startswith("archive/"):
            expected = "public, max-age=31536000, immutable"
        else:
            continue
        assert got["CacheControl"] == expected, path
    assert got["ContentType"]  # the loop ran
    checked = {
        "rss.xml": "application/rss+xml; charset=utf-8",
        "atom.xml": "application/atom+xml; charset=utf-8",
        "feed.json": "application/feed+json",
        "index.html": "text/html; charset=utf-8",
        "index.opml": "text/x-opml; charset=utf-8",
        "feed.xsl": "text/xsl; charset=utf-8",
    }
    for path, media_type in checked.items():
        head = client.head_object(Bucket=site.bucket, Key=PREFIX + path)
        assert head["ContentType"] == media_type


def test_the_summary_line_and_a_real_corpus(
    corpus: Path, tmp_path: Path, bucket: str, s3: S3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["--out", str(out), "--base-url", BASE_URL]
    target = ["--bucket", bucket, "--endpoint-url", s3.url, "--path-style", "--prefix", ""]
    assert main(["build", "--source", str(corpus), *args, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["deploy", *args, *target]) == 0
    files = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")]
    summary = capsys.readouterr().err.splitlines()[-1]
    assert summary.startswith(
        f"deploy to s3://{bucket}/: uploaded {len(files)} (headers of 0), deleted 0, "
        f"0 unchanged; {len(files) + 3} requests, "
    )
    client = s3_client(s3.url)
    for path in files:
        key = path.relative_to(out).as_posix()
        assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()
    assert main(["deploy", *args, *target]) == 0
    assert f"uploaded 0 (headers of 0), deleted 0, {len(files)} unchanged; 2 requests" in (
        capsys.readouterr().err
    )


def test_uploads_go_archives_first_then_feeds_then_the_site_then_the_index(
    site: Site, s3: S3Server
) -> None:
    assert site.run("build")[0] == 0
    with S3Front(s3.url) as front:
        code, _, err = site.run("deploy", "--endpoint-url", front.url)
        assert code == 0, err
    keys = [k.removeprefix(f"/{site.bucket}/{PREFIX}") for k in front.uploads]
    assert keys[-1] == ".feedpub-deploy.json.gz"  # the manifest, last
    phases = [classify(k, {"": 2})[1] for k in keys[:-1]]
    assert phases == sorted(phases)
    assert set(phases) == set(Phase)
    assert set(keys[-3:-1]) == {"index.html", "index.opml"}


def test_a_second_deploy_uploads_nothing_in_two_requests(site: Site) -> None:
    site.run("build")
    site.run_json("deploy")
    again = site.run_json("deploy")
    assert again["uploaded"] == [] and again["deleted"] == []
    assert sorted(again["unchanged"]) == sorted(site.local_files())
    # One ListObjectsV2 page and one GET of the manifest: no HEAD per file.
    assert (again["requests"], again["metadata_reads"], again["bytes_sent"]) == (2, 0, 0)


def test_one_new_article_uploads_exactly_the_files_whose_bytes_changed(
    site: Site, s3: S3Server
) -> None:
    site.run("build")
    site.run_json("deploy")
    before = site.local_files()
    site.add(5)
    document = site.run_json("build", "--deploy")
    written, deployed = document["files_written"], document["deploy"]
    after = site.local_files()
    changed = sorted(p for p in after if before.get(p) != after[p])
    assert sorted(uploaded(deployed)) == sorted(written) == changed
    assert 0 < len(changed) < len(after)
    # JSON Feed archive pages have no next-archive link: the formerly newest one keeps
    # its bytes, but is now a settled page with a long Cache-Control, set in place.
    retagged = deployed["headers_updated"]
    assert sorted(retagged) == ["archive/2/feed.json", "topics/ai/archive/2/feed.json"]
    assert sorted(deployed["unchanged"]) == sorted(set(after) - set(changed) - set(retagged))
    client = s3_client(s3.url)
    for path in retagged:
        head = client.head_object(Bucket=site.bucket, Key=PREFIX + path)
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
        assert head["Metadata"] == {"feedpub-sha256": hashlib.sha256(after[path]).hexdigest()}
    client = s3_client(s3.url)
    for path in changed:
        body = client.get_object(Bucket=site.bucket, Key=PREFIX + path)["Body"].read()
        assert body == after[path]


def test_a_server_stopped_mid_deploy_fails_keeps_the_old_index_and_the_next_deploy_completes(
    site: Site, s3: S3Server
) -> None:
    site.run("build")
    site.run_json("deploy")
    old = site.local_files()
    site.add(5, topics=["AI", "Robotics"])  # a new topic: the index and OPML change
    assert site.run("build")[0] == 0
    new = site.local_files()
    changed = sorted(p for p in new if old.get(p) != new[p])
    assert {"index.html", "index.opml"} <= set(changed) and len(changed) > 5

    with S3Front(s3.url, stop_after=3) as front:
        code, _, err = site.run("deploy", "--endpoint-url", front.url, "--concurrency", "2")
    assert code == EXIT_DEPLOY == 6
    assert "deploy failed" in err and "next deploy carries on" in err
    landed = [k.removeprefix(f"/{site.bucket}/{PREFIX}") for k in front.uploads]
    assert 3 <= len(landed) < len(changed)

    client = s3_client(s3.url)
    for path in ("index.html", "index.opml"):
        served = client.get_object(Bucket=site.bucket, Key=PREFIX + path)["Body"].read()
        assert served == old[path] != new[path]
    for path in landed:  # what did land is whole
        assert client.get_object(Bucket=site.bucket, Key=PREFIX + path)["Body"].read() == new[path]

    finish = site.run_json("deploy")
    assert sorted(uploaded(finish)) == sorted(set(changed) - set(landed))
    # The manifest predates the failed run: the objects it uploaded are asked, not re-sent.
    # (A header update in place keeps the ETag, so the manifest still vouches for it.)
    assert finish["metadata_reads"] == len(set(landed) & set(changed)) > 0
    for path, data in new.items():
        assert client.get_object(Bucket=site.bucket, Key=PREFIX + path)["Body"].read() == data
    assert site.run_json("deploy")["uploaded"] == []


def test_more_deletions_than_max_deletes_are_refused_and_nothing_changes(
    site: Site, s3: S3Server
) -> None:
    site.run("build")
    site.run_json("deploy")
    client = s3_client(s3.url)
    strays = [f"{PREFIX}old/{i}.xml" for i in range(5)]
    for key in strays:
        client.put_object(Bucket=site.bucket, Key=key, Body=b"<old/>")
    client.put_object(Bucket=site.bucket, Key=PREFIX + ".hidden/keep", Body=b"x")
    site.add(5)
    site.run("build")
    keys = bucket_keys(client, site.bucket)
    index = client.get_object(Bucket=site.bucket, Key=PREFIX + "index.html")["Body"].read()

    code, _, err = site.run("deploy", "--max-deletes", "4")
    assert code == EXIT_DEPLOY
    assert "refusing to delete 5 objects" in err and "--max-deletes 4" in err
    assert bucket_keys(client, site.bucket) == keys
    after = client.get_object(Bucket=site.bucket, Key=PREFIX + "index.html")["Body"].read()
    assert after == index  # nothing uploaded either

    code, out, _ = site.run("deploy", "--max-deletes", "4", "--dry-run")
    assert code == 0
    assert [line for line in out.splitlines() if line.startswith("delete ")] == [
        f"delete old/{i}.xml" for i in range(5)
    ]
    assert bucket_keys(client, site.bucket) == keys

    done = site.run_json("deploy", "--max-deletes", "5")
    assert sorted(done["deleted"]) == [f"old/{i}.xml" for i in range(5)]
    # The strays are gone, the hidden key stays, and the folder is in the bucket.
    expected = {PREFIX + p for p in site.local_files()} | {MANIFEST_KEY, PREFIX + ".hidden/keep"}
    assert bucket_keys(client, site.bucket) == expected


class Hub(BaseHTTPRequestHandler):
    """A WebSub hub that, on each ping, reads the pinged feed from the bucket."""

    seen: list[tuple[str, bool]]  # (hub.url, the bucket held the local bytes then)
    check: Callable[[str], bool]

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        url = form["hub.url"][0]
        self.seen.append((url, type(self).check(url)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_websub_hubs_hear_of_changed_feeds_only_once_uploaded(site: Site, s3: S3Server) -> None:
    client = s3_client(s3.url)

    def in_bucket(url: str) -> bool:
        path = url.removeprefix(BASE_URL)
        try:
            body = client.get_object(Bucket=site.bucket, Key=PREFIX + path)["Body"].read()
        except client.exceptions.NoSuchKey:
            return False
        return bool(body == (site.out / path).read_bytes())

    handler = type("H", (Hub,), {"seen": [], "check": staticmethod(in_bucket)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        site.write_config(f'hubs = ["http://127.0.0.1:{server.server_address[1]}/hub"]')
        first = site.run_json("build", "--deploy")
        assert first["deploy"]["pinged"] and all(ok for _, ok in handler.seen)
        assert sorted(u for u, _ in handler.seen) == sorted(first["changed_feeds"])
        handler.seen.clear()

        site.add(5)
        second = site.run_json("build", "--deploy")
        pinged = sorted(u for u, _ in handler.seen)
        assert all(ok for _, ok in handler.seen)  # each was in the bucket when announced
        feeds = {
            BASE_URL + p
            for p in second["files_written"]
            if p.rsplit("/", 1)[-1] in ("rss.xml", "atom.xml", "feed.json") and "archive/" not in p
        }
        assert pinged == sorted(second["changed_feeds"]) == sorted(feeds)
        assert 0 < len(pinged) < len(first["changed_feeds"])
        handler.seen.clear()

        assert site.run_json("build", "--deploy")["deploy"]["uploaded"] == []
        assert handler.seen == []
    finally:
        server.shutdown()
        server.server_close()


def test_without_a_manifest_or_with_a_stale_one_the_metadata_decides(
    site: Site, s3: S3Server
) -> None:
    site.run("build")
    site.run_json("deploy")
    client = s3_client(s3.url)
    client.delete_object(Bucket=site.bucket, Key=MANIFEST_KEY)
    again = site.run_json("deploy")
    local = site.local_files()
    assert again["uploaded"] == [] and again["metadata_reads"] == len(local)

    # Another tool overwrites one object behind feedpub's back: the listing's ETag
    # no longer matches the manifest, so its metadata is read, and it is replaced.
    client.put_object(Bucket=site.bucket, Key=PREFIX + "topics/ai/rss.xml", Body=b"tampered")
    fixed = site.run_json("deploy")
    assert uploaded(fixed) == ["topics/ai/rss.xml"] and fixed["metadata_reads"] == 1
    body = client.get_object(Bucket=site.bucket, Key=PREFIX + "topics/ai/rss.xml")["Body"].read()
    assert body == local["topics/ai/rss.xml"]


def test_new_cache_control_settings_reupload_with_the_new_headers(site: Site, s3: S3Server) -> None:
    site.run("build")
    site.run_json("deploy")
    with (site.root / "config.toml").open("a", encoding="utf-8") as f:
        f.write('[deploy.cache_control]\nstylesheet = "public, max-age=60"\n')
    again = site.run_json("deploy")
    assert again["uploaded"] == [] and again["headers_updated"] == ["feed.xsl"]
    client = s3_client(s3.url)
    manifest = client.head_object(Bucket=site.bucket, Key=MANIFEST_KEY)
    assert again["bytes_sent"] == manifest["ContentLength"]  # the copy sends no body
    head = client.head_object(Bucket=site.bucket, Key=PREFIX + "feed.xsl")
    assert head["CacheControl"] == "public, max-age=60"


def test_dry_run_prints_the_plan_and_changes_nothing(site: Site, s3: S3Server) -> None:
    site.run("build")
    code, out, err = site.run("deploy", "--dry-run")
    assert code == 0
    assert sorted(out.splitlines()) == sorted(f"upload {p} (new)" for p in site.local_files())
    assert "would upload" in err
    assert bucket_keys(s3_client(s3.url), site.bucket) == set()


def test_the_invalidate_command_gets_the_replaced_and_deleted_urls(
    site: Site, s3: S3Server
) -> None:
    received = site.root / "invalidated.txt"
    script = f"import sys; open({str(received)!r}, 'a').write(sys.stdin.read())"
    site.run("build")
    with (site.root / "config.toml").open("a", encoding="utf-8") as f:
        f.write(f"invalidate = {json.dumps([sys.executable, '-c', script])}\n")
    site.run_json("deploy")
    assert not received.exists()  # only new files: nothing cached to invalidate
    before = site.local_files()
    site.add(5)
    document = site.run_json("build", "--deploy")
    after = site.local_files()
    replaced = [p for p in uploaded(document["deploy"]) if p in before]
    assert replaced and len(replaced) < len(uploaded(document["deploy"]))
    replaced += document["deploy"]["headers_updated"]  # a CDN holds their old headers
    expected = {BASE_URL + p for p in replaced} | {
        BASE_URL + p.removesuffix("index.html") for p in replaced if p.endswith("index.html")
    }
    assert set(received.read_text().splitlines()) == expected
    assert set(after) > set(before)


def test_a_failing_invalidate_command_fails_the_deploy(site: Site) -> None:
    site.run("build")
    site.run_json("deploy")
    with (site.root / "config.toml").open("a", encoding="utf-8") as f:
        f.write("invalidate = \"sh -c 'echo no such distribution >&2; exit 3'\"\n")
    site.add(5)
    code, _, err = site.run("build", "--deploy")
    assert code == EXIT_DEPLOY
    assert "the invalidate command 'sh' failed (exit 3): no such distribution" in err


def test_an_unreachable_endpoint_is_exit_6_with_a_sentence(site: Site) -> None:
    from tests.s3server import free_port

    site.run("build")
    code, _, err = site.run("deploy", "--endpoint-url", f"http://127.0.0.1:{free_port()}")
    assert code == EXIT_DEPLOY
    assert err.startswith(f"feedpub: deploy failed: cannot list the bucket in bucket {site.bucket}")


def test_without_boto3_deploy_says_how_to_install_it(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "rss.xml").write_text("<rss/>")
    code = (
        "import sys; sys.modules['boto3'] = None; from feedpub.cli import main; "
        f"sys.exit(main(['deploy', '--out', {str(tmp_path / 'out')!r}, '--bucket', 'b']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=os.environ
    )
    assert done.returncode == 1
    assert done.stderr == "feedpub: error: deploying needs boto3: pip install 'feedpub[s3]'\n"


def test_deploying_a_missing_folder_or_without_a_bucket_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "--out", str(tmp_path / "none"), "--bucket", "b"]) == EXIT_DEPLOY
    assert "nothing to deploy" in capsys.readouterr().err
    (tmp_path / "out").mkdir()
    assert main(["deploy", "--out", str(tmp_path / "out")]) == 1
    assert "no bucket to deploy to" in capsys.readouterr().err


# The invalidation examples of docs/deploy.md, run with stand-ins for `aws` and `curl`.

DOCS = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")


def doc_script(word: str) -> str:
    blocks = re.findall(r"^```sh\n(.*?)^```$", DOCS, flags=re.S | re.M)
    [script] = [b for b in blocks if f"invalidate-{word}.sh" in b]
    return script


def run_example(tmp_path: Path, word: str, tool: str, urls: list[str]) -> list[list[str]]:
    """Run a docs example with ``tool`` recording its arguments, one call per file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls"
    calls.mkdir(exist_ok=True)
    (bin_dir / tool).write_text(
        f'#!/bin/sh\nn=$(ls {calls} | wc -l)\nprintf "%s\\n" "$@" > {calls}/$((n + 1000))\n'
    )
    (bin_dir / tool).chmod(0o755)
    (tmp_path / "hook.sh").write_text(doc_script(word))
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CLOUDFRONT_DISTRIBUTION_ID": "E2EXAMPLE",
        "CLOUDFLARE_ZONE_ID": "zone1",
        "CLOUDFLARE_API_TOKEN": "token1",
    }
    done = subprocess.run(
        ["sh", str(tmp_path / "hook.sh")],
        input="".join(u + "\n" for u in urls),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return [p.read_text().splitlines() for p in sorted(calls.iterdir())]


def test_the_cloudfront_example_invalidates_the_paths(tmp_path: Path) -> None:
    urls = [BASE_URL + "rss.xml", BASE_URL + "index.html", BASE_URL]
    [call] = run_example(tmp_path, "cloudfront", "aws", urls)
    assert call == [
        "cloudfront",
        "create-invalidation",
        "--distribution-id",
        "E2EXAMPLE",
        "--paths",
        "/feeds/",
        "/feeds/index.html",
        "/feeds/rss.xml",
    ]
    many = [f"{BASE_URL}topics/t{i}/rss.xml" for i in range(150)]
    (tmp_path / "second").mkdir()
    [call] = run_example(tmp_path / "second", "cloudfront", "aws", many)
    assert call[-2:] == ["--paths", "/feeds/*"]


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_cloudflare_example_purges_the_urls_30_at_a_time(tmp_path: Path) -> None:
    urls = [f"{BASE_URL}topics/t{i}/rss.xml" for i in range(65)]
    calls = run_example(tmp_path, "cloudflare", "curl", urls)
    assert len(calls) == 3
    purged: list[str] = []
    for call in calls:
        assert "https://api.cloudflare.com/client/v4/zones/zone1/purge_cache" in call
        assert "Authorization: Bearer token1" in call
        purged += json.loads(call[call.index("--data") + 1])["files"]
    assert purged == urls
    assert [len(json.loads(c[c.index("--data") + 1])["files"]) for c in calls] == [30, 30, 5]


# Units: the pure plan and the settings.


def local(path: str, sha: str = "a") -> LocalFile:
    kind, phase = classify(path, {"topics/ai/": 3})
    return LocalFile(path, sha, 1, kind, phase, content_type(PurePosixPath(path).name), "c")


def test_classify_orders_what_links_before_what_is_linked_to() -> None:
    newest = {"topics/ai/": 3, "": 9}
    assert classify("topics/ai/archive/1/rss.xml", newest) == (FileKind.ARCHIVE, Phase.ARCHIVES)
    assert classify("topics/ai/archive/3/rss.xml", newest) == (
        FileKind.ARCHIVE_NEWEST,
        Phase.ARCHIVES,
    )
    assert classify("archive/2/atom.xml", newest) == (FileKind.ARCHIVE, Phase.ARCHIVES)
    assert classify("feed.xsl", newest) == (FileKind.STYLESHEET, Phase.ARCHIVES)
    assert classify("robots.txt", newest) == (FileKind.OTHER, Phase.ARCHIVES)
    assert classify("topics/ai/feed.json", newest) == (FileKind.FEED, Phase.FEEDS)
    assert classify("providers/a.example/index.html", newest) == (FileKind.PAGE, Phase.FEEDS)
    assert classify("atom.xml", newest) == (FileKind.FEED, Phase.SITE_FEEDS)
    assert classify("index.opml", newest) == (FileKind.FEED, Phase.DISCOVERY)
    assert classify("index.html", newest) == (FileKind.PAGE, Phase.DISCOVERY)


def test_plan_uploads_differences_in_order_and_deletes_only_visible_leftovers() -> None:
    files = [local("index.html", "new"), local("rss.xml", "same"), local("topics/ai/rss.xml")]
    remote = {
        "rss.xml": RemoteObject(
            "rss.xml", 1, "e", "same", "application/rss+xml; charset=utf-8", "c"
        ),
        "index.html": RemoteObject("index.html", 1, "e", "old", "text/html; charset=utf-8", "c"),
        "gone.xml": RemoteObject("gone.xml", 1, "e"),
        ".keep": RemoteObject(".keep", 1, "e"),
    }
    plan = plan_deploy(files, remote)
    assert [(u.file.path, u.reason) for u in plan.uploads] == [
        ("topics/ai/rss.xml", "new"),
        ("index.html", "changed"),
    ]
    assert plan.unchanged == ("rss.xml",) and plan.deletes == ("gone.xml",)


def test_the_manifest_is_trusted_only_where_the_listing_agrees() -> None:
    listed = {p: RemoteObject(p, 10, "etag-" + p) for p in ("a", "b", "c", "d")}
    manifest = {
        "a": RemoteObject("a", 10, "etag-a", "sha-a"),
        "b": RemoteObject("b", 10, "other", "sha-b"),
        "e": RemoteObject("e", 10, "etag-e", "sha-e"),
    }
    known, ask = trust_manifest(listed, manifest, wanted={"a", "b", "c", "e"})
    assert ask == ["b", "c"]
    assert known == {"a": manifest["a"], "d": listed["d"]}


def test_deploy_settings_are_checked() -> None:
    settings = parse_deploy_settings(
        {"bucket": "b", "prefix": "/x/y", "invalidate": "purge --all 'a b'"}, "config: deploy"
    )
    assert settings.prefix == "x/y/" and settings.invalidate == ("purge", "--all", "a b")
    assert settings.max_deletes == 256
    for raw, message in [
        ({"bucket": 1}, "config: deploy: bucket must be a string, got 1"),
        ({"secret": "x"}, "config: deploy: unknown key 'secret'"),
        ({"prefix": "a/../b"}, "deploy prefix 'a/../b' must be a plain folder path"),
        ({"concurrency": 0}, "config: deploy: concurrency must be at least 1, got 0"),
        ({"cache_control": {"feeds": "x"}}, "config: deploy.cache_control: unknown kind 'feeds'"),
        ({"invalidate": ""}, "config: deploy: invalidate is an empty command"),
    ]:
        with pytest.raises(ConfigError) as caught:
            parse_deploy_settings(raw, "config: deploy")
        assert str(caught.value).startswith(message), raw
