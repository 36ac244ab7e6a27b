"""``feedpub build``, started before it is needed: ``serve --watch`` keeps one waiting.

A new interpreter spends a large share of a small rebuild importing feedpub and
its libraries (YAML, lxml, feedgen). This process does that first, then waits
for one line on stdin: the options of ``feedpub build``, as a JSON list of
strings. It then builds exactly as ``feedpub build OPTIONS`` would (the config
is read at that moment, not at start) and exits with its code. End of input
without a line (the watcher stopped) ends it quietly, with code 0.

    python -m feedpub.cli.buildahead
"""

from __future__ import annotations

import contextlib
import importlib
import json
import signal
import sys

# What a build that finds changes imports beyond the command line itself, found
# with `python -X importtime -m feedpub build` after an edit.
PRELOAD = (
    "feedpub.publish",
    "feedpub.incremental",
    "feedpub.sources.loader",
    "feedpub.sources.yamlfast",
    "feedpub.sources.datafiles",
    "yaml_rs",  # imported by yamlfast only when a file is parsed
    "feedpub.selection",
    "feedpub.group",
    "feedpub.editorial.select",
    "feedpub.editorial.excerpts",
    "feedpub.guard",
    "feedpub.render.site",
    "feedpub.render.pages",
    "feedgen.ext.dc",
    "encodings.idna",
    "feedpub.write",
    "feedpub.output",
    "feedpub.store",
    "feedpub.store.changes",
)


def main() -> int:
    from . import main as feedpub_main
    from .common import EXIT_SIGNAL

    try:
        for name in PRELOAD:
            with contextlib.suppress(ModuleNotFoundError):  # renamed: the build imports its own
                importlib.import_module(name)
        line = sys.stdin.buffer.readline()
    except KeyboardInterrupt:  # Ctrl-C in the terminal reaches the waiting process too
        return EXIT_SIGNAL + signal.SIGINT
    if not line.strip():
        return 0
    options = json.loads(line)
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        print("feedpub: buildahead expects a JSON list of strings", file=sys.stderr)
        return 2
    return feedpub_main(["build", *options])


if __name__ == "__main__":
    raise SystemExit(main())
