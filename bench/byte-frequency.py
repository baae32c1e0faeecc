#!/usr/bin/env python3
"""Prints the byte-frequency table of src/prefilter/buckets.rs, measured over source trees.

    python3 bench/byte-frequency.py TREE...

Every regular file up to 20 MiB counts, binaries included (the scanner reads them too). A byte
at or above 0x80 counts as the byte of its low seven bits: the keyword searcher looks bytes up
by those seven bits, so that is how often it sees each entry. Each tree weighs the same, so one
large tree does not stand for all source code. Values are parts per 65,536, at least 1.
"""
import os
import sys

MAX_FILE_SIZE = 20 * 1024 * 1024


def tree_frequencies(tree):
    counts = [0] * 256
    for root, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > MAX_FILE_SIZE:
                continue
            with open(path, "rb") as file:
                data = file.read()
            for byte in range(256):
                counts[byte] += data.count(byte)
    folded = [counts[b] + counts[b + 128] for b in range(128)]
    total = sum(folded) or 1
    return [c / total for c in folded]


def main():
    trees = sys.argv[1:]
    if not trees:
        sys.exit(__doc__)
    per_tree = [tree_frequencies(tree) for tree in trees]
    table = [max(1, round(65536 * sum(f[b] for f in per_tree) / len(per_tree))) for b in range(128)]
    print(f"// python3 bench/byte-frequency.py {' '.join(trees)}")
    for row in range(0, 128, 16):
        print("    " + " ".join(f"{v}," for v in table[row : row + 16]))


if __name__ == "__main__":
    main()
