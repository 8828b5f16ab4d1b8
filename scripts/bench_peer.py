#!/usr/bin/env python3
"""The scikit-learn peer for the screening benchmark.

A conventional text classifier of the kind Patroli is compared with: HashingVectorizer on word 1-2
grams plus char_wb 2-5 grams, and one SGDClassifier (log-loss) per category. It is trained on a
labelled JSON Lines file (the dev set or a synthetic corpus made with another seed), then
transform + predict is timed over the benchmark corpus, streamed in batches so memory stays bounded.

Prints one JSON object: posts, wall seconds, CPU seconds (user + system of this process, measured
around transform + predict only), posts per CPU-second, and how many posts it flagged.
"""

import argparse
import itertools
import json
import resource
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

CATEGORIES = ["drugs", "unregistered_products", "trafficking_recruitment", "sexual_exploitation"]


def read_posts(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            obj = json.loads(line)
            text = obj.get("text", "")
            if obj.get("title"):
                text = obj["title"] + "\n" + text
            yield text, obj.get("labels") or []


def vectorizers():
    words = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=2**20,
                              alternate_sign=False, lowercase=True)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), n_features=2**20,
                              alternate_sign=False, lowercase=True)
    return words, chars


def transform(vecs, texts):
    return sp.hstack([v.transform(texts) for v in vecs], format="csr")


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train", required=True, help="labelled JSON Lines to train on")
    ap.add_argument("--corpus", required=True, help="JSON Lines to classify (timed)")
    ap.add_argument("--batch", type=int, default=10_000)
    args = ap.parse_args()

    vecs = vectorizers()
    train = list(read_posts(args.train))
    x_train = transform(vecs, [t for t, _ in train])
    models = {}
    for cat in CATEGORIES:
        y = np.array([cat in labels for _, labels in train], dtype=int)
        if y.min() == y.max():
            continue  # nothing to learn for a category absent from the training set
        models[cat] = SGDClassifier(loss="log_loss", max_iter=20, tol=None, random_state=0).fit(x_train, y)

    posts = flagged = 0
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    it = read_posts(args.corpus)
    while True:
        batch = [t for t, _ in itertools.islice(it, args.batch)]
        if not batch:
            break
        x = transform(vecs, batch)
        any_flag = np.zeros(len(batch), dtype=bool)
        for model in models.values():
            any_flag |= model.predict_proba(x)[:, 1] >= 0.5
        posts += len(batch)
        flagged += int(any_flag.sum())
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    json.dump({
        "posts": posts,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "posts_per_cpu_s": round(posts / cpu, 1) if cpu else None,
        "flagged": flagged,
        "trained_categories": sorted(models),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
