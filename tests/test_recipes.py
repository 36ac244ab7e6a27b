"""The recipes of docs/deployment.md: well-formed always, and run for real where the server is here.

nginx and Caddy are not test dependencies: their tests skip when the server is
not installed (`apt-get install nginx caddy` to run them).
"""

from __future__ import annotations

import configparser
import gzip
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from feedpub.config import load_config
from feedpub.publish import build
from tests.conftest import REPO
from tests.serving import fetch

RECIPES = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
READER = "application/atom+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.1"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", RECIPES, flags=re.S | re.M)


def test_the_workflow_rebuilds_on_a_schedule_and_publishes_to_pages() -> None:
    [text] = blocks("yaml")
    workflow = yaml.safe_load(text)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] and "push" in triggers
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = workflow["jobs"]["build"]["steps"]
    [command] = [s["run"] for s in steps if "feedpub build" in s.get("run", "")]
    [upload] = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert f"--out {upload['with']['path']} " in command and "--base-url" in command
    [deploy] = workflow["jobs"]["deploy"]["steps"]
    assert deploy["uses"].startswith("actions/deploy-pages@")
    assert workflow["jobs"]["deploy"]["needs"] == "build"


def test_the_systemd_units_and_the_crontab_line() -> None:
    service_text, timer_text = blocks("ini")
    service, timer = configparser.ConfigParser(), configparser.ConfigParser()
    service.read_string(service_text)
    timer.read_string(timer_text)
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"].endswith("feedpub build --quiet")
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"
    [cron] = blocks("crontab")
    fields = cron.split(maxsplit=5)
    assert len(fields) == 6 and fields[0] == "*/10" and "feedpub build --quiet" in fields[5]


@pytest.fixture
def public(tmp_path: Path) -> Path:
    """The example built the way the recipes assume: /srv/news/public/feeds/."""
    config = load_config(REPO / "config.toml")
    out = tmp_path / "public" / "feeds"
    build(
        replace(config, out=out, base_url="https://news.example.org/feeds/"),
        datetime(2026, 11, 27, tzinfo=UTC),
    )
    return tmp_path / "public"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def port() -> int:
    return free_port()


@contextmanager
def running(
    command: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run a server until the block ends; its base URL once it accepts connections."""
    with open(log, "w") as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"{command[0]} did not start: {log.read_text()}")
                    time.sleep(0.05)  # a bounded wait for the server to bind, not a delay
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def check_served(base: str, public: Path) -> None:
    """What docs/deployment.md promises of a deployment, checked over HTTP."""
    rss = fetch(base, "/feeds/topics/space/rss.xml", {"Accept": READER})
    assert rss.status == 200
    assert rss.header("Content-Type") == "application/rss+xml; charset=utf-8"
    assert rss.body == (public / "feeds/topics/space/rss.xml").read_bytes()
    assert "Accept" in ", ".join(rss.headers.get_all("Vary") or [])
    assert rss.header("Cache-Control") == "public, max-age=300"
    etag, modified = rss.header("ETag"), rss.header("Last-Modified")
    assert fetch(base, "/feeds/topics/space/rss.xml", {"If-None-Match": etag}).status == 304
    assert fetch(base, "/feeds/topics/space/rss.xml", {"If-Modified-Since": modified}).status == 304
    zipped = fetch(base, "/feeds/atom.xml", {"Accept-Encoding": "gzip"})
    assert zipped.header("Content-Type") == "application/atom+xml; charset=utf-8"
    assert gzip.decompress(zipped.body) == (public / "feeds/atom.xml").read_bytes()
    page = fetch(base, "/feeds/topics/space/rss.xml", {"Accept": BROWSER})
    assert page.header("Content-Type") == "application/xml; charset=utf-8"
    assert page.body == rss.body
    for path, media_type in (
        ("/feeds/feed.json", "application/feed+json"),
        ("/feeds/index.opml", "text/x-opml; charset=utf-8"),
        ("/feeds/feed.xsl", "text/xsl; charset=utf-8"),
        ("/feeds/", "text/html; charset=utf-8"),
        ("/feeds/topics/space/", "text/html; charset=utf-8"),
    ):
        response = fetch(base, path, {"Accept-Encoding": "gzip"})
        assert (response.status, response.header("Content-Type")) == (200, media_type), path
        assert response.header("Content-Encoding") == "gzip", path
    assert fetch(base, "/feeds/.feedpub-manifest.json").status == 404


def test_the_nginx_recipe_serves_what_it_promises(public: Path, port: int, tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
    if nginx is None:
        pytest.skip("nginx is not installed")
    [recipe] = blocks("nginx")
    site = recipe.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("/srv/news/public", str(public))
    run = tmp_path / "nginx"
    run.mkdir()
    temp_paths = "".join(
        f"{kind}_temp_path {run}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would drop to "nobody", who cannot enter pytest's 0700 folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (run / "nginx.conf").write_text(
        f"{user}daemon off;\npid {run}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n"
        f"include /etc/nginx/mime.types;\naccess_log off;\n{temp_paths}{site}\n}}\n"
    )
    command = [nginx, "-c", str(run / "nginx.conf"), "-p", str(run)]
    with running(command, port, tmp_path / "nginx.log") as base:
        check_served(base, public)


def test_the_caddy_recipe_serves_what_it_promises(public: Path, port: int, tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed")
    [recipe] = blocks("caddyfile")
    site = recipe.replace("news.example.org {", f"http://127.0.0.1:{port} {{", 1)
    site = site.replace("/srv/news/public", str(public))
    (tmp_path / "Caddyfile").write_text("{\n\tadmin off\n}\n" + site + "\n")
    home = str(tmp_path / "home")
    env = {**os.environ, "HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
    command = [caddy, "run", "--config", str(tmp_path / "Caddyfile"), "--adapter", "caddyfile"]
    with running(command, port, tmp_path / "caddy.log", env) as base:
        check_served(base, public)
