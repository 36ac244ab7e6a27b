"""Deploying the output folder to an S3-compatible bucket: ``feedpub deploy``.

    settings.py  the [deploy] table of config.toml
    plan.py      pure: the folder's files, their kinds and order, the plan against the bucket
    s3.py        the bucket through boto3 (an optional extra): list, head, put, delete, manifest
    hook.py      the CDN invalidation command
    sync.py      one deploy, start to end

config.py imports the settings on every run: the rest (and boto3, only when a
deploy starts) loads on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .settings import DeploySettings, FileKind, parse_deploy_settings

__all__ = ["DeployReport", "DeploySettings", "FileKind", "deploy_folder", "parse_deploy_settings"]

if TYPE_CHECKING:
    from .sync import DeployReport, deploy_folder


def __getattr__(name: str) -> object:
    if name in ("DeployReport", "deploy_folder"):
        return getattr(importlib.import_module(".sync", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
