"""The CDN invalidation hook: a command of the user's, given the URLs that changed.

CDN APIs differ (CloudFront takes paths, Cloudflare full URLs, in batches of
its own), so feedpub runs a command instead of speaking to any of them: the
changed URLs go to its standard input, one per line. docs/deploy.md has a
CloudFront and a Cloudflare example.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from ..errors import DeployError

HOOK_TIMEOUT = 600.0  # seconds


def changed_urls(base_url: str, paths: Sequence[str]) -> list[str]:
    """The URLs a CDN may hold for these paths: each file, and a page's folder URL too."""
    urls: list[str] = []
    for path in paths:
        urls.append(base_url + path)
        if path == "index.html" or path.endswith("/index.html"):
            urls.append(base_url + path.removesuffix("index.html"))
    return sorted(set(urls))


def run_invalidate(
    command: Sequence[str], urls: Sequence[str], environment: dict[str, str]
) -> None:
    """Run the hook with ``urls`` on its standard input and ``environment`` added to its own.

    Raises:
        DeployError: the command cannot be started, times out or exits with a failure.
    """
    text = "".join(url + "\n" for url in urls)
    try:
        done = subprocess.run(
            list(command),
            input=text.encode("utf-8"),
            capture_output=True,
            env={**os.environ, **environment},
            timeout=HOOK_TIMEOUT,
            check=False,
        )
    except OSError as e:
        raise DeployError(f"cannot run the invalidate command {command[0]!r}: {e}") from e
    except subprocess.TimeoutExpired as e:
        raise DeployError(
            f"the invalidate command {command[0]!r} took longer than {HOOK_TIMEOUT:g} s"
        ) from e
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise DeployError(
            f"the invalidate command {command[0]!r} failed (exit {done.returncode})"
            + (": " + " / ".join(said) if said else "")
        )
