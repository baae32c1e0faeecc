#!/usr/bin/env python3
"""Times commands in alternation and compares each with the first, round by round.

    python3 bench/paired.py [--rounds N] [--warmup N] -- 'BASELINE CMD' 'CMD' ...

On a shared machine the load changes within a minute, so hyperfine's figures for two
commands measured one after the other can disagree by 30%. Here every round runs each
command once, in order, and each command's time is divided by the baseline's time of the
same round: the median of those ratios is what a change moved. Commands run without a shell
(split on spaces); their output is discarded and their exit codes ignored (a scanner exits 1
when it finds something).
"""

import argparse
import statistics
import subprocess
import time


def run_once(argv):
    start = time.perf_counter()
    try:
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    except OSError as error:
        raise SystemExit(f"paired.py: cannot run {argv[0]!r}: {error.strerror}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("commands", nargs="+")
    args = parser.parse_args()
    argvs = [command.split() for command in args.commands]
    for _ in range(args.warmup):
        for argv in argvs:
            run_once(argv)
    times = [[] for _ in argvs]
    for _ in range(args.rounds):
        for index, argv in enumerate(argvs):
            times[index].append(run_once(argv))
    print(f"{args.rounds} rounds, {args.warmup} warm-up; ratio = median over rounds of time / baseline's time")
    print("| command | median | min | ratio to baseline |")
    print("|---|---|---|---|")
    for command, samples in zip(args.commands, times):
        ratios = [sample / base for sample, base in zip(samples, times[0])]
        print(
            f"| `{command}` | {statistics.median(samples) * 1e3:.1f} ms | {min(samples) * 1e3:.1f} ms "
            f"| {statistics.median(ratios):.2f} |"
        )


if __name__ == "__main__":
    main()
