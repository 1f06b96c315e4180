"""``python -m bench NAME [options]`` or ``python -m bench all [--tiny]``."""

from __future__ import annotations

import importlib
import sys

from bench.common import NAMES


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(__doc__)
        print("figures: " + ", ".join(NAMES) + ", all")
        return 0
    name, rest = args[0], args[1:]
    names = NAMES if name == "all" else [name]
    for n in names:
        if n not in NAMES:
            print(f"unknown benchmark {n!r}; choose from: {', '.join(NAMES)}, all", file=sys.stderr)
            return 2
        module = importlib.import_module(f"bench.{n}_bench")
        print(f"\n== {n} ==", flush=True)
        module.main(rest if name != "all" else [a for a in rest if a in {"--tiny"}])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
