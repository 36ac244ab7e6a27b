"""Corpora for the benchmarks: N articles made from the real ones by make_corpus.py."""

from __future__ import annotations

import argparse
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


def add_corpus_options(parser: argparse.ArgumentParser, work: Path) -> None:
    """``--work`` (where corpora and sites are made, default ``work``) and ``--source``."""
    parser.add_argument("--work", type=Path, default=work)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)


def check_corpus_options(args: argparse.Namespace) -> None:
    """Exit with a message if ``--source`` is missing; make ``--work``."""
    if not args.source.is_dir():
        sys.exit(f"no corpus at {args.source}: pass --source DIR")
    args.work.mkdir(parents=True, exist_ok=True)
