"""leadrouter-router: wiring only (settings -> clients -> loop). Built in its own issue."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leadrouter-router", description="Not built yet.")
    parser.parse_args(argv)
    print("leadrouter-router is not built yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
