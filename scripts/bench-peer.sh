#!/usr/bin/env bash
# Speed and memory benchmark of `patroli scan` against a scikit-learn peer, in one run.
#
#  1. generates a synthetic corpus (scripts/gen_corpus.py, default 200k posts) and a training corpus
#     with another seed;
#  2. runs the release `patroli scan` over the corpus under /usr/bin/time -v: wall, CPU, peak RSS;
#  3. trains and times the peer (scripts/bench_peer.py) on the same corpus, in a venv under target/
#     that gets scikit-learn installed if it is missing;
#  4. prints posts per CPU-second for both and the ratio;
#  5. repeats the corpus into a ~1 GB file and scans it, to show peak memory stays flat.
#
# Environment: N (posts, default 200000), BIG_MB (size of the big input, default 1024, 0 skips it),
# TRAIN (labelled JSON Lines for the peer; default: a synthetic corpus with another seed).
# Results also land in target/bench/results.txt.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
N=${N:-200000}
BIG_MB=${BIG_MB:-1024}
out=target/bench
venv=target/bench-venv
mkdir -p "$out"

echo "== building patroli (release)"
cargo build --release -p patroli --quiet
bin=target/release/patroli

echo "== generating corpus: $N posts"
python3 scripts/gen_corpus.py --n "$N" --seed 1 --out "$out/corpus.jsonl"
if [[ -z "${TRAIN:-}" ]]; then
    python3 scripts/gen_corpus.py --n 20000 --seed 2 --out "$out/train.jsonl"
    TRAIN="$out/train.jsonl"
fi
corpus_bytes=$(stat -c %s "$out/corpus.jsonl")

# Runs a command under /usr/bin/time -v and prints "wall_s cpu_s max_rss_kb".
measure() {
    local log=$1
    shift
    /usr/bin/time -v "$@" 2>"$log" >/dev/null || {
        local rc=$?
        # patroli exits 2 when it rejected lines; anything else is a failure.
        if [[ $rc -ne 2 ]]; then cat "$log" >&2; return $rc; fi
    }
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); wall = 0; for (i = 1; i <= n; i++) wall = wall * 60 + t[i] }
        /User time/ { user = $2 }
        /System time/ { sys = $2 }
        /Maximum resident set size/ { rss = $2 }
        END { printf "%.3f %.3f %d\n", wall, user + sys, rss }' "$log"
}

echo "== patroli scan over the corpus"
read -r p_wall p_cpu p_rss < <(measure "$out/scan.time" "$bin" scan "$out/corpus.jsonl")
grep -E '^scanned ' "$out/scan.time" || true

echo "== scikit-learn peer"
if ! "$venv/bin/python" -c 'import sklearn' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet scikit-learn
fi
peer_json=$("$venv/bin/python" scripts/bench_peer.py --train "$TRAIN" --corpus "$out/corpus.jsonl")
echo "$peer_json"
s_cpu=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cpu_s"])' "$peer_json")
s_wall=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["wall_s"])' "$peer_json")

big_line="big input skipped (BIG_MB=0)"
if [[ "$BIG_MB" -gt 0 ]]; then
    echo "== ~${BIG_MB} MB input (corpus repeated)"
    big="$out/big.jsonl"
    : >"$big"
    while [[ $(stat -c %s "$big") -lt $((BIG_MB * 1024 * 1024)) ]]; do
        cat "$out/corpus.jsonl" >>"$big"
    done
    big_bytes=$(stat -c %s "$big")
    big_posts=$(wc -l <"$big")
    read -r b_wall b_cpu b_rss < <(measure "$out/big.time" "$bin" scan "$big")
    big_line=$(awk -v mb="$big_bytes" -v n="$big_posts" -v w="$b_wall" -v c="$b_cpu" -v r="$b_rss" \
        'BEGIN { printf "big input: %.0f MB, %d posts, wall %.1f s, cpu %.1f s, peak RSS %.1f MB", mb/1048576, n, w, c, r/1024 }')
    rm -f "$big"
fi

awk -v n="$N" -v mb="$corpus_bytes" -v pw="$p_wall" -v pc="$p_cpu" -v pr="$p_rss" \
    -v sw="$s_wall" -v sc="$s_cpu" -v big="$big_line" -v cores="$(nproc)" 'BEGIN {
    pp = n / pc; sp = n / sc
    printf "\n== results (%d posts, %.1f MB, %d cores)\n", n, mb / 1048576, cores
    printf "patroli scan : wall %.2f s, cpu %.2f s, %.0f posts/s wall, %.0f posts per CPU-second, %.1f MB/s per core, peak RSS %.1f MB\n", pw, pc, n / pw, pp, mb / 1048576 / pc, pr / 1024
    printf "sklearn peer : wall %.2f s, cpu %.2f s, %.0f posts per CPU-second (transform + predict)\n", sw, sc, sp
    printf "ratio        : %.1fx posts per CPU-second\n", pp / sp
    printf "%s\n", big
}' | tee "$out/results.txt"
