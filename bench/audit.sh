#!/usr/bin/env bash
# Audit benchmark (issue 18): keyhound audit over 20 local repositories, first run vs an
# unchanged re-run vs a re-run after one commit with a key; the same 20 as file:// URLs (cloned
# the first time, only their refs listed when unchanged); 4 shards merged vs one run; and a
# history into a datastore vs without one, first and second run. A re-run takes milliseconds:
# the audits' figures are medians of 5 runs timed without a shell (bench/runs.py), first runs
# each into a new datastore.
#
#   bench/audit.sh [HISTORY_REPO]        e.g. a clone of microsoft/autogen
#
# Needs a release build (cargo build --release) and git. Builds the 20 repositories (60
# commits each, one fake key in each, made by this script) under $OUT (default
# target/bench/audit); prints each figure with the command that made it.
set -euo pipefail
cd "$(dirname "$0")/.."

KEYHOUND=${KEYHOUND:-$PWD/target/release/keyhound}
BENCH=$PWD/bench
OUT=${OUT:-$PWD/target/bench/audit}
[ -x "$KEYHOUND" ] || { echo "build first: cargo build --release" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT/fleet"
# An empty global configuration (not /dev/null, which a config write would replace).
: > "$OUT/gitconfig"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$OUT/gitconfig"
git_() { git -c user.name=bench -c user.email=bench@example.com -c commit.gpgsign=false "$@"; }

# A fake OpenAI-shaped key, different for each N, assembled so this file holds none.
fake_key() { printf 'sk-proj-%s%s%s' "$(printf 'Bench%02dFake' "$((10#$1))")Xy7Qw2Er5Ty8Ui1Op4As6Df" "T3Blbk""FJ" "Zx3Cv6Bn9Mm2Lk5Jh8Gf4Ds1Aa0Qq7Ww3Ee"; }

echo "== building 20 repositories"
for i in $(seq -w 1 20); do
    repo="$OUT/fleet/repo-$i"
    git_ init -q "$repo"
    for c in $(seq 1 60); do
        for f in 1 2 3 4 5; do seq "$c" $((c * f + 200)) > "$repo/file$f-$((c % 7)).txt"; done
        [ "$c" = 30 ] && echo "OPENAI_API_KEY=$(fake_key "$i")" > "$repo/.env"
        git_ -C "$repo" add -A && git_ -C "$repo" commit -qm "commit $c"
    done
done

# Runs a command, prints its wall time in seconds and the audit's totals line.
timed() {
    local start end
    start=$(date +%s.%N)
    "$@" >"$OUT/last.out" 2>"$OUT/last.err" || [ $? -le 1 ]
    end=$(date +%s.%N)
    printf '%.2f s  %s\n' "$(echo "$end - $start" | bc)" "$*"
    grep -hE "repositories;|blobs, " "$OUT/last.err" || true
}

# Times a command of milliseconds: the median of 5 runs, no shell around it; with --fresh DB,
# each run into a new datastore. Prints the last run's totals line.
runs() { python3 "$BENCH/runs.py" --rounds 5 --show "repositories;|blobs, " "$@"; }

cd "$OUT"
echo "== 20 repositories: first run (a new datastore each time), unchanged re-run, +1 commit with a key"
runs --fresh audit.db -- "$KEYHOUND" audit fleet --datastore audit.db --format json --output first.json
runs -- "$KEYHOUND" audit fleet --datastore audit.db --format json --output again.json
cmp -s first.json again.json && echo "same report"
echo "OPENAI_API_KEY=$(fake_key 99)" > fleet/repo-07/deploy.env
git_ -C fleet/repo-07 add -A && git_ -C fleet/repo-07 commit -qm "add deploy.env"
timed "$KEYHOUND" audit fleet --datastore audit.db --format json --output added.json
grep -c '"path": "deploy.env"' added.json | sed 's/^/findings at deploy.env: /'

echo "== the 20 as file:// URLs: first run (clones), unchanged re-run (refs listed, no clone)"
for repo in fleet/repo-*; do echo "file://$PWD/$repo"; done > urls.txt
runs --fresh remote.db -- "$KEYHOUND" audit --repos urls.txt --datastore remote.db --format json --output remote-first.json
runs -- "$KEYHOUND" audit --repos urls.txt --datastore remote.db --format json --output remote-again.json
cmp -s remote-first.json remote-again.json && echo "same report"

echo "== 4 shards (4 processes) merged vs one run"
for s in 0 1 2 3; do "$KEYHOUND" audit fleet --shard $s/4 --datastore shard-$s.db --quiet --format json --output /dev/null & done
wait || true
"$KEYHOUND" datastore merge merged.db shard-0.db shard-1.db shard-2.db shard-3.db 2>/dev/null
"$KEYHOUND" report --datastore merged.db --format json --output merged.json 2>/dev/null || true
"$KEYHOUND" report --datastore audit.db --format json --output single.json 2>/dev/null || true
cmp -s merged.json single.json && echo "merged == single run, finding for finding ($(grep -c fingerprint single.json) findings)"

if [ $# -ge 1 ]; then
    repo=$1
    echo "== $(basename "$repo"): history without and with a datastore"
    timed "$KEYHOUND" history "$repo" --format json --output plain.json
    timed "$KEYHOUND" history "$repo" --format json --output first.json --datastore history.db
    runs -- "$KEYHOUND" history "$repo" --format json --output second.json --datastore history.db
    cmp -s first.json second.json && echo "same report"
    blobs=$(python3 -c "import sqlite3; print(sqlite3.connect('history.db').execute('select count(*) from blob').fetchone()[0])")
    bytes=$(stat -c %s history.db)
    echo "datastore: $blobs blobs, $bytes bytes: $((bytes * 1000000 / blobs / 1048576)) MiB per million blobs"
fi
