"""Stop a sandbox server and remove its directory when the migproof process dies.

Run as ``python -m migproof.sandbox.watchdog DIR``, in its own session so Ctrl-C in the
terminal does not reach it, with a pipe from migproof on stdin. migproof writes ``q``
before it closes the pipe after a normal stop; end of file without it means migproof is
gone (SIGKILL, a crash), so the watchdog shuts the server down (SIGQUIT, as
``pg_ctl stop -m immediate`` does) and removes the directory.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from migproof.sandbox.process import remove_tree, stop_postmaster


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    directory = Path(argv[0])
    data = sys.stdin.buffer.read()
    if data.startswith(b"q"):
        return 0
    stop_postmaster(directory / "data")
    remove_tree(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
