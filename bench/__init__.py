"""Kotae's benchmark suite: one module per figure, each run side by side with what a user would
pick instead, printing a table and writing ``bench/results/<name>.json``.

    python -m bench all              # every figure (minutes; the 1M-passage ones dominate)
    python -m bench search --sizes 10000 100000
    python -m bench warm --tiny      # a tiny input: seconds (what the smoke test runs)

See BENCHMARKS.md for the figures, the machine they were measured on and how to read them.
"""
