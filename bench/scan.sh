#!/usr/bin/env bash
# Tree-scan benchmark: keyhound vs ripgrep's floor on one large real tree, in one run.
#
#   bash bench/scan.sh [TREE]      # default: this machine's Python standard library
#
# Builds keyhound in release mode, warms the page cache, then times (hyperfine, median of
# runs after a warm-up) `keyhound scan --no-ignore TREE` against
# `rg --no-ignore --hidden -c T3BlbkFJ TREE`, which only looks for OpenAI's key marker and is
# the floor for reading every file once. It also checks that the tree, scanned without
# --no-ignore, is reported as ignored (it sits in a git checkout that ignores it), and prints
# keyhound's OpenAI findings count there (expected: 0). Last, bench/paired.py runs rg and the
# three keyhound configurations in alternation (ROUNDS rounds, default 15) and prints each
# one's median ratio to rg: on a shared machine, the figure to quote.
set -euo pipefail
cd "$(dirname "$0")/.."
TREE=${1:-$(python3 -c 'import sysconfig;print(sysconfig.get_paths()["stdlib"])')}
PATH="${PEERS:+$PEERS:}$PATH"
command -v rg >/dev/null || { echo "needs ripgrep (apt-get install ripgrep)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }

cargo build --release --quiet
KH=$PWD/target/release/keyhound

echo "== tree: $TREE ($(find "$TREE" -type f | wc -l) files, $(du -sh "$TREE" | cut -f1))"
echo "== scanned without --no-ignore (must warn, never call it clean):"
"$KH" scan "$TREE" 2>&1 >/dev/null | sed 's/^/   /' || true

echo "== OpenAI findings with --no-ignore:"
"$KH" scan --no-ignore --quiet --format jsonl "$TREE" | grep -c '"rule":"openai-' || true

mkdir -p target/bench
hyperfine --warmup 2 --runs 7 -N --ignore-failure --export-markdown target/bench/scan.md \
  "$KH scan --quiet --no-ignore $TREE" \
  "rg --no-ignore --hidden -c T3BlbkFJ $TREE"
cat target/bench/scan.md

echo "== paired (alternating rounds; the ratio is what counts on a shared machine):"
python3 bench/paired.py --rounds "${ROUNDS:-15}" -- \
  "rg --no-ignore --hidden -c T3BlbkFJ $TREE" \
  "$KH scan --quiet --no-ignore --no-decode --no-archives $TREE" \
  "$KH scan --quiet --no-ignore --no-archives $TREE" \
  "$KH scan --quiet --no-ignore $TREE"
