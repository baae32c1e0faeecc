#!/usr/bin/env python3
"""Times a command (no shell) ROUNDS times and prints the median wall time, for figures of a few
milliseconds where a shell or `date` around each run would weigh as much as the run itself.

    bench/runs.py [--rounds N] [--fresh PATH]... [--show REGEX] -- COMMAND ARGS...

--fresh PATH removes PATH and its SQLite companions (PATH-wal, PATH-shm) before each run, outside
the timing, so a first run into a new datastore can be timed the same way as a re-run. --show
prints the last run's standard error lines that match REGEX (a summary's totals). Exit codes 0
and 1 count as success (1: findings), others fail.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fresh", action="append", default=[])
    parser.add_argument("--show")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    times = []
    for _ in range(args.rounds):
        for path in args.fresh:
            for name in (path, path + "-wal", path + "-shm"):
                if os.path.exists(name):
                    os.remove(name)
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode > 1:
            sys.exit(f"exit {done.returncode}: {' '.join(command)}")
    print(f"{statistics.median(times) * 1000:.1f} ms (median of {args.rounds}, min {min(times) * 1000:.1f})  {' '.join(command)}")
    if args.show:
        for line in done.stderr.decode(errors="replace").splitlines():
            if re.search(args.show, line):
                print(line)


if __name__ == "__main__":
    main()
