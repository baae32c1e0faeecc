#!/usr/bin/env bash
# Pre-commit hook benchmark: whole-process time of `keyhound staged` against
# `gitleaks git --pre-commit --staged`, side by side in one hyperfine run, on a synthetic
# repository of 10,000 committed files with 1 or 10 files staged.
#
#   bench/hook.sh [WORKDIR]      (default: a fresh temporary directory)
#
# Needs a release build (cargo build --release), hyperfine, and gitleaks (run under
# `unshare -n`, as every peer is, so nothing can leave the machine), on PATH or in the
# directory $PEERS. Writes hyperfine's markdown tables next to the repositories and prints
# them.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
keyhound=${KEYHOUND:-$here/target/release/keyhound}
export PATH="${PEERS:+$PEERS:}$PATH"
gitleaks=$(command -v gitleaks || true)
hyperfine=$(command -v hyperfine || true)
work=${1:-$(mktemp -d)}
files=10000
runs=${RUNS:-40}

[ -x "$keyhound" ] || { echo "no release build at $keyhound: cargo build --release" >&2; exit 2; }
[ -n "$gitleaks" ] || { echo "no gitleaks on PATH or in \$PEERS" >&2; exit 2; }
[ -n "$hyperfine" ] || { echo "no hyperfine on PATH or in \$PEERS" >&2; exit 2; }

# An empty private file, not /dev/null: a `git config --global` write would replace /dev/null.
mkdir -p "$work" && : > "$work/empty.gitconfig"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$work/empty.gitconfig
git_() { git -c user.name=bench -c user.email=bench@example.com -c gc.auto=0 -c maintenance.auto=false "$@"; }

# 10,000 Python-like files of 1-3 KiB in 100 directories, committed once. Key-free.
make_repo() {
    local repo=$1
    rm -rf "$repo" && mkdir -p "$repo" && cd "$repo"
    git_ init -q -b main
    python3 - "$files" <<'PY'
import os, random, sys
rng = random.Random(42)
words = "client model request response config value token session user data item result".split()
for i in range(int(sys.argv[1])):
    d = f"pkg{i // 100:02d}"
    os.makedirs(d, exist_ok=True)
    lines = [f"def {rng.choice(words)}_{j}(x):\n    return x * {rng.randint(1, 999)}  # {' '.join(rng.choices(words, k=6))}\n"
             for j in range(rng.randint(12, 40))]
    with open(f"{d}/mod{i:05d}.py", "w") as f:
        f.writelines(lines)
PY
    git_ add -A && git_ commit -q -m "10,000 files"
}

# Stages a change to the first N files (appends a function), leaving the rest as committed.
stage() {
    local n=$1
    for i in $(seq 0 $((n - 1))); do
        printf 'def added_%d(x):\n    return x + %d\n' "$i" "$i" >> "pkg00/mod$(printf %05d "$i").py"
        git_ add "pkg00/mod$(printf %05d "$i").py"
    done
}

# A fake key (fixed seed, FAKE in both halves; the marker is assembled from pieces).
fake_key() {
    python3 -c '
import random
r = random.Random(7); a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
s = lambda n: "".join(r.choice(a) for _ in range(n))
print("sk-proj-" + s(35) + "FAKE" + s(35) + "T3Blbk" + "FJ" + s(35) + "FAKE" + s(35))'
}

bench() {
    local name=$1 repo=$2 ignore=${3:-}
    cd "$repo"
    "$hyperfine" -N --warmup 5 --runs "$runs" $ignore \
        --export-json "$work/$name.json" \
        -n "keyhound staged" "$keyhound staged --quiet" \
        -n "keyhound staged (unshare -n)" "unshare -n $keyhound staged --quiet" \
        -n "gitleaks git --pre-commit --staged (unshare -n)" \
        "unshare -n $gitleaks git --pre-commit --staged --no-banner --log-level error"
}

# One markdown table of medians over every scenario.
table() {
    python3 - "$work" "$@" <<'PY'
import json, sys
work, names = sys.argv[1], sys.argv[2:]
print("| staged files | command | median ms | mean ± σ ms | min ms | user+sys ms | vs keyhound |")
print("|---|---|---:|---:|---:|---:|---:|")
for name in names:
    results = json.load(open(f"{work}/{name}.json"))["results"]
    base = results[0]["median"]
    for r in results:
        ms = lambda x: f"{x * 1000:.1f}"
        print(f"| {name.removeprefix('staged-')} | `{r['command']}` | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'])}"
              f" | {ms(r['min'])} | {ms(r['user'] + r['system'])} | {r['median'] / base:.1f}x |")
PY
}

base=$work/base
make_repo "$base"
for n in 1 10; do
    rm -rf "$work/staged-$n" && cp -a "$base" "$work/staged-$n"
    (cd "$work/staged-$n" && stage "$n")
    bench "staged-$n" "$work/staged-$n"
done
# 10 staged files, one of which adds a key: the blocked path (both exit 1, hence -i).
rm -rf "$work/staged-10-key" && cp -a "$base" "$work/staged-10-key"
(cd "$work/staged-10-key" && stage 10 && echo "OPENAI_API_KEY = '$(fake_key)'" >> pkg00/mod00003.py && git_ add pkg00/mod00003.py)
bench "staged-10-key" "$work/staged-10-key" -i
table staged-1 staged-10 staged-10-key | tee "$work/table.md"
