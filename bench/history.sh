#!/usr/bin/env bash
# History-scan benchmark: keyhound history vs the floor (every blob read once by git
# cat-file) vs gitleaks, betterleaks and kingfisher, side by side on the same machine.
#
#   bench/history.sh REPO...          e.g. clones of microsoft/autogen and sharkdp/bat
#
# Needs: a release build (cargo build --release), hyperfine, GNU time (/usr/bin/time), and
# the peers on PATH or in the directory $PEERS (bench/README.md names the versions).
# Peers run inside `unshare -n` (no network) with live validation off. Writes a hyperfine
# markdown table and a peak-RSS table per corpus to target/bench/ (or $OUT).
set -euo pipefail
cd "$(dirname "$0")/.."

KEYHOUND=${KEYHOUND:-$PWD/target/release/keyhound}
RUNS=${RUNS:-3}
OUT=${OUT:-target/bench}
mkdir -p "$OUT"
[ -x "$KEYHOUND" ] || { echo "build first: cargo build --release" >&2; exit 2; }
export PATH="${PEERS:+$PEERS:}$PATH"

corpora=("$@")
[ ${#corpora[@]} -gt 0 ] || { echo "usage: bench/history.sh REPO..." >&2; exit 2; }

for repo in "${corpora[@]}"; do
    name=$(basename "$repo")
    # The commands, each a name and a shell line. Exit codes are ignored (1 = found secrets).
    names=(floor keyhound gitleaks betterleaks kingfisher)
    commands=(
        "git -C $repo cat-file --batch-all-objects --batch-check='%(objectname)' | git -C $repo cat-file --batch >/dev/null"
        "$KEYHOUND history $repo --quiet --format json --output /dev/null"
        "unshare -n gitleaks git $repo --no-banner --log-level error --exit-code 0"
        "unshare -n betterleaks git $repo --no-banner --log-level error --output $OUT/.betterleaks.json --exit-code 0"
        "unshare -n kingfisher scan $repo --git-history full --no-validate --no-update-check --format json --output /dev/null"
    )
    echo "== $name: timing (hyperfine, $RUNS runs after a warm-up)"
    args=()
    for i in "${!names[@]}"; do args+=(--command-name "${names[$i]}" "${commands[$i]}"); done
    hyperfine --warmup 1 --runs "$RUNS" --ignore-failure --export-markdown "$OUT/history-$name.md" "${args[@]}"

    echo "== $name: peak RSS (GNU time, one run each)"
    {
        echo "| command | peak RSS (MB) |"
        echo "|---|---|"
        for i in "${!names[@]}"; do
            /usr/bin/time -f "%M" -o "$OUT/.rss" bash -c "${commands[$i]}" >/dev/null 2>&1 || true
            echo "| ${names[$i]} | $(( $(tail -1 "$OUT/.rss") / 1024 )) |"
        done
    } | tee "$OUT/history-$name-rss.md"
    rm -f "$OUT/.rss"
done
