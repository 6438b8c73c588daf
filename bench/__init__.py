"""`python -m bench`: leadrouter's benchmarks against a real broker on this machine.

Every number printed names what was timed, from which event to which. The benchmark reports; it
never asserts a speed (the targets live in docs/performance.md).
"""
