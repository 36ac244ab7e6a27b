"""Corpora for the benchmarks: N articles made from the real ones by make_corpus.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEFAULT_SOURCE = SHARED / "corpus" / "powerapps" / "_news"


def make_corpus(size: int, work: Path, source: Path) -> Path:
    """``work/corpus-<size>``: made once, reused while it holds ``size`` files."""
    corpus = work / f"corpus-{size}"
    if corpus.is_dir() and len(os.listdir(corpus)) == size:
        return corpus
    shutil.rmtree(corpus, ignore_errors=True)
    tool = SHARED / "tools" / "make_corpus.py"
    argv = [sys.executable, str(tool), "--source", str(source), "--count", str(size)]
    subprocess.run(
        [*argv, "--out", str(corpus)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return corpus
