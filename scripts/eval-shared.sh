#!/usr/bin/env bash
# False-positive check on real legitimate text from ../shared/data (never shipped with the repo):
# PRDECT-ID product names and reviews, and Indonesian SMS labelled normal (0) or promo (2).
# Prints the share of posts flagged per source with a few examples. Target: <= 1% per source.
# Usage: scripts/eval-shared.sh [SHARED_DATA_DIR]   (bash + python3 stdlib + the detect example)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data}"
if [ ! -d "$DATA" ]; then
    echo "eval-shared: $DATA not found; nothing to measure (this check needs the shared data sets)."
    exit 0
fi
cargo build -q --release -p patroli-detect --example screen_jsonl
BIN=target/release/examples/screen_jsonl
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
python3 - "$DATA" "$TMP" <<'PY'
import csv, json, os, sys
data, tmp = sys.argv[1], sys.argv[2]
def write(name, rows):
    with open(os.path.join(tmp, name + ".jsonl"), "w") as f:
        for i, (title, text) in enumerate(rows):
            rec = {"id": f"{name}-{i}", "text": text}
            if title:
                rec["title"] = title
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
p = os.path.join(data, "prdect-id", "PRDECT-ID_Dataset.csv")
if os.path.exists(p):
    names, reviews = [], []
    seen = set()
    with open(p, newline="", encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            n = (row.get("Product Name") or "").strip()
            if n and n not in seen:
                seen.add(n)
                names.append((None, n))
            r = (row.get("Customer Review") or "").strip()
            if r:
                reviews.append((None, r))
    write("prdect_names", names)
    write("prdect_reviews", reviews)
p = os.path.join(data, "id-sms-spam", "dataset_sms_spam_v1.csv")
if os.path.exists(p):
    normal, promo = [], []
    with open(p, newline="", encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            t, l = (row.get("Teks") or "").strip(), (row.get("label") or "").strip()
            if l == "0":
                normal.append((None, t))
            elif l == "2":
                promo.append((None, t))
    write("sms_normal", normal)
    write("sms_promo", promo)
PY
status=0
for f in "$TMP"/*.jsonl; do
    name="$(basename "$f" .jsonl)"
    "$BIN" < "$f" > "$TMP/$name.out"
    python3 - "$f" "$TMP/$name.out" "$name" <<'PY' || status=1
import json, sys
src, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
texts = {}
for line in open(src, encoding="utf-8"):
    r = json.loads(line); texts[r["id"]] = r["text"]
total = flagged = 0
examples = []
for line in open(out, encoding="utf-8"):
    v = json.loads(line); total += 1
    if v["flagged"]:
        flagged += 1
        if len(examples) < 8:
            examples.append((v, texts[v["id"]]))
share = 100.0 * flagged / max(total, 1)
print(f"{name:<16} {flagged:>5}/{total:<6} flagged = {share:5.2f}%  {'OK' if share <= 1.0 else 'ABOVE 1%'}")
for v, t in examples:
    rs = ", ".join(f"{r}={m!r}" for r, m in v["reasons"][:5])
    print(f"    {','.join(v['categories'])} {v['score']:.2f} :: {t[:110]!r}\n        {rs}")
PY
done
exit $status
