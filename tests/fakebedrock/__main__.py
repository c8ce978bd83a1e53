"""Run the fake as a process: ``python -m tests.fakebedrock --port 0 --config cfg.json``.

Prints one JSON line, ``{"url": "http://127.0.0.1:PORT"}``, once it is listening,
then serves until SIGTERM/SIGINT. The config file holds ``Behaviour`` fields.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from types import FrameType

from . import Behaviour, FakeBedrock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakebedrock")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--config", type=Path, help="JSON file of Behaviour fields")
    args = parser.parse_args(argv)
    behaviour = Behaviour()
    if args.config:
        behaviour = Behaviour.from_json(json.loads(args.config.read_text(encoding="utf-8")))
    fake = FakeBedrock(behaviour, port=args.port)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    fake.start()
    print(json.dumps({"url": fake.url}), flush=True)
    try:
        signal.pause()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
