"""`python -m scheduler`: run LabTour's scheduler as its own process (production), until SIGTERM/SIGINT.

`python -m scheduler enqueue|drain|retention [--now ISO-TIME]` runs one job once (operations, tests).
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
from datetime import datetime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description=__doc__)
    parser.add_argument("job", nargs="?", default="run", choices=["run", "enqueue", "drain", "retention"])
    parser.add_argument("--now", help="the clock for this run (ISO 8601 with offset), default: now")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app import create_app

    app = create_app()
    if args.job != "run":
        from . import once
        print(once(app, args.job, datetime.fromisoformat(args.now) if args.now else None))
        return 0
    from .runner import Runner

    runner = Runner(app)
    signal.signal(signal.SIGTERM, lambda *_: runner._stop.set())
    signal.signal(signal.SIGINT, lambda *_: runner._stop.set())
    runner.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
