#!/usr/bin/python3
"""Generates the metric fixtures once with Debian's python3-sklearn (run with /usr/bin/python3).

Writes evaluation/src/test/resources/metrics/cases.json: multi-label cases (clips x tags) with ties,
constant columns, tiny sizes, all-positive and all-negative tags and clips, and for each case the
per-tag and per-clip ROC-AUC (roc_auc_score) and average precision (average_precision_score), null
where our definition calls the metric undefined (ROC-AUC: one class only; AP: no positive), and the
means over the defined ones. Also writes ops/src/test/resources/metrics/{labels.csv,scores.csv,expected.json} for `clmr metrics`.

    /usr/bin/python3 evaluation/src/test/scripts/make_metric_fixtures.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, roc_auc_score

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "metrics")
# the `clmr metrics` command is tested in ops/
CLI_OUT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "ops", "src", "test", "resources", "metrics")


def roc(y, s):
    return None if y.min() == y.max() else float(roc_auc_score(y, s))


def ap(y, s):
    return None if y.sum() == 0 else float(average_precision_score(y, s))


def mean(values):
    defined = [v for v in values if v is not None]
    return None if not defined else float(np.mean(defined))


def case(name, labels, scores):
    labels = np.asarray(labels, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    n, t = labels.shape
    tag_roc = [roc(labels[:, j], scores[:, j]) for j in range(t)]
    tag_ap = [ap(labels[:, j], scores[:, j]) for j in range(t)]
    clip_roc = [roc(labels[i, :], scores[i, :]) for i in range(n)]
    clip_ap = [ap(labels[i, :], scores[i, :]) for i in range(n)]
    return {
        "name": name,
        "labels": labels.tolist(),
        "scores": scores.tolist(),
        "tag_roc": tag_roc, "tag_ap": tag_ap, "clip_roc": clip_roc, "clip_ap": clip_ap,
        "tag_roc_auc": mean(tag_roc), "tag_pr_auc": mean(tag_ap),
        "clip_roc_auc": mean(clip_roc), "clip_pr_auc": mean(clip_ap),
    }


def random_case(rng, name, n, t, levels=None, p=0.3):
    labels = (rng.random((n, t)) < p).astype(np.int64)
    raw = rng.random((n, t)) + 0.5 * labels * rng.random((n, t))
    # few distinct levels make many ties within a column and a row
    scores = np.round(raw * levels) / levels if levels else raw
    return case(name, labels, scores)


def main():
    rng = np.random.default_rng(20210101)
    cases = [
        case("tiny-2x2", [[1, 0], [0, 1]], [[0.9, 0.1], [0.2, 0.8]]),
        case("tiny-reversed", [[1, 0], [0, 1]], [[0.1, 0.9], [0.8, 0.2]]),
        case("all-tied", [[1, 0, 1], [0, 1, 0], [1, 1, 0]], [[0.5] * 3] * 3),
        case("all-positive-tag-and-clip",
             [[1, 1, 0], [1, 0, 1], [1, 1, 1], [1, 0, 0]],
             [[0.3, 0.7, 0.2], [0.3, 0.1, 0.9], [0.6, 0.6, 0.6], [0.1, 0.4, 0.4]]),
        case("all-negative-tag-and-clip",
             [[0, 1, 0], [0, 0, 1], [0, 1, 1], [0, 0, 0]],
             [[0.3, 0.7, 0.2], [0.3, 0.1, 0.9], [0.6, 0.6, 0.6], [0.1, 0.4, 0.4]]),
        case("constant-score-columns",
             [[1, 0, 1, 0], [0, 1, 1, 0], [1, 1, 0, 1], [0, 0, 0, 1], [1, 0, 1, 1]],
             [[0.2, 0.4, 0.4, 0.0], [0.2, 0.4, 0.1, 0.0], [0.2, 0.4, 0.9, 0.0],
              [0.2, 0.4, 0.3, 0.0], [0.2, 0.4, 0.3, 0.0]]),
        case("single-clip", [[1, 0, 0, 1, 0]], [[0.4, 0.4, 0.1, 0.9, 0.4]]),
        case("single-tag", [[1], [0], [1], [0], [0]], [[0.3], [0.3], [0.8], [0.1], [0.3]]),
    ]
    for i in range(12):
        n, t = int(rng.integers(2, 40)), int(rng.integers(1, 12))
        levels = [None, 2, 4, 10][i % 4]
        cases.append(random_case(rng, f"random-{i}-{n}x{t}-levels{levels}", n, t, levels, p=[0.1, 0.3, 0.6][i % 3]))
    cases.append(random_case(rng, "random-large-300x50-levels20", 300, 50, 20, p=0.08))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"generator": "make_metric_fixtures.py", "sklearn": sklearn.__version__, "cases": cases}, f)

    os.makedirs(CLI_OUT, exist_ok=True)
    cli = random_case(rng, "cli", 25, 6, 10, p=0.3)
    tags = ["rock", "piano", "female vocal", "drums", "quiet", "techno"]
    ids = [f"clip-{i:03d}" for i in range(25)]
    order = list(rng.permutation(25))  # the scores file lists clips in another order
    with open(os.path.join(CLI_OUT, "labels.csv"), "w") as f:
        f.write("clip_id," + ",".join(f'"{t}"' if " " in t else t for t in tags) + "\n")
        for i in range(25):
            f.write(ids[i] + "," + ",".join(str(v) for v in cli["labels"][i]) + "\n")
    with open(os.path.join(CLI_OUT, "scores.csv"), "w") as f:
        f.write("clip_id," + ",".join(f'"{t}"' if " " in t else t for t in tags) + "\n")
        for i in order:
            f.write(ids[i] + "," + ",".join(repr(v) for v in cli["scores"][i]) + "\n")
    with open(os.path.join(CLI_OUT, "expected.json"), "w") as f:
        json.dump({k: cli[k] for k in ("tag_roc_auc", "tag_pr_auc", "clip_roc_auc", "clip_pr_auc")}, f)


if __name__ == "__main__":
    main()
