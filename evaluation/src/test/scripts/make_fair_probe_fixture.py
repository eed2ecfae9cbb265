#!/usr/bin/python3
"""Generates the fair-probe fixture once with Debian's python3-sklearn (run with /usr/bin/python3).

Writes evaluation/src/test/resources/probe/fair/: a small multi-label problem (clips of 2 windows, each window
carrying its clip's 6 tags; train/valid/test 240/80/120 clips) as two float32 feature sets of the same clips,
  well.npy  16 dimensions on comparable scales (a linear mixture of 8 latent factors plus window noise),
  bad.npy   24 dimensions: the same 16 with scales from 1e-5 to 1e4 and offsets of up to 50 standard
            deviations, and 8 constant columns (0, 1.5, -2.25, 1e3, 7e-4) at random positions,
rows train, then valid, then test; and fixture.json with the labels and, per set, scikit-learn's reference:
StandardScaler fitted on the training windows, one LogisticRegression (lbfgs, tol 1e-10) per tag for each
weight decay of the grid with C = 1 / (weight_decay * tags * training windows) (the objective clmr's L-BFGS
probe minimises), validation and test scores as each clip's mean window probability, tag-wise ROC-AUC as the
mean over tags with both classes, and the weight decay with the best validation tag-wise ROC-AUC (ties: the
larger). Tag 5 has no positive validation clip (it is left out of the validation mean, as clmr leaves it).
The grid must equal clmr.eval.fair.weight-decay; the Java test checks that.

    /usr/bin/python3 evaluation/src/test/scripts/make_fair_probe_fixture.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "probe", "fair")
GRID = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
CLIPS = {"train": 240, "valid": 80, "test": 120}
WINDOWS = 2
LATENT, TAGS, INFORMATIVE, NOISE = 8, 6, 12, 4
NO_VALID_POSITIVE = 5


def make(rng):
    mixing = rng.normal(size=(LATENT, INFORMATIVE))
    planes = rng.normal(size=(LATENT, TAGS))
    bias = rng.normal(size=TAGS) - 0.8
    splits = {}
    for name, n in CLIPS.items():
        latent = rng.normal(size=(n, LATENT))
        labels = (latent @ planes + bias + 1.5 * rng.normal(size=(n, TAGS))) > 0
        if name == "valid":
            labels[:, NO_VALID_POSITIVE] = False
        per_window = np.repeat(latent, WINDOWS, axis=0)
        x = np.concatenate([per_window @ mixing + 0.8 * rng.normal(size=(n * WINDOWS, INFORMATIVE)),
                            rng.normal(size=(n * WINDOWS, NOISE))], axis=1)
        splits[name] = (x, labels)
    return splits


def badly_scaled(rng, dims):
    scale = 10.0 ** rng.uniform(-5, 4, size=dims)
    offset = scale * rng.uniform(-50, 50, size=dims)
    constant_at = sorted(int(i) for i in rng.choice(dims + 8, 8, replace=False))
    values = [0.0, 0.0, 0.0, 1.5, -2.25, 1e3, 7e-4, 0.0]

    def apply(x):
        out = np.empty((len(x), dims + 8))
        informative = [i for i in range(dims + 8) if i not in constant_at]
        out[:, informative] = x * scale + offset
        out[:, constant_at] = values
        return out

    return apply, constant_at, scale


def tag_roc_auc(labels, scores):
    defined = [roc_auc_score(labels[:, t], scores[:, t]) for t in range(labels.shape[1]) if 0 < labels[:, t].sum() < len(labels)]
    return float(np.mean(defined))


def clip_scores(models, x, clips):
    p = np.stack([m.predict_proba(x)[:, 1] for m in models], axis=1)
    return p.reshape(clips, WINDOWS, -1).mean(axis=1)


def reference(features, splits):
    x = {}
    start = 0
    for name, n in CLIPS.items():
        x[name] = features[start:start + n * WINDOWS].astype(np.float64)
        start += n * WINDOWS
    scaler = StandardScaler().fit(x["train"])
    z = {name: scaler.transform(v) for name, v in x.items()}
    y = np.repeat(splits["train"][1], WINDOWS, axis=0)
    windows = len(y)
    points = []
    for wd in GRID:
        c = 1.0 / (wd * TAGS * windows)
        models = [LogisticRegression(C=c, tol=1e-10, max_iter=100000).fit(z["train"], y[:, t]) for t in range(TAGS)]
        points.append({"weight_decay": wd, "C": c,
                       "valid_tag_roc_auc": tag_roc_auc(splits["valid"][1], clip_scores(models, z["valid"], CLIPS["valid"])),
                       "test_tag_roc_auc": tag_roc_auc(splits["test"][1], clip_scores(models, z["test"], CLIPS["test"]))})
    best = None
    for p in points:
        if best is None or p["valid_tag_roc_auc"] >= best["valid_tag_roc_auc"]:
            best = p
    return {"per_weight_decay": points, "chosen_weight_decay": best["weight_decay"], "test_tag_roc_auc": best["test_tag_roc_auc"]}


def main():
    rng = np.random.default_rng(22)
    splits = make(rng)
    well = np.concatenate([splits[name][0] for name in CLIPS]).astype(np.float32)
    apply, constant_at, scale = badly_scaled(rng, well.shape[1])
    bad = apply(well.astype(np.float64)).astype(np.float32)
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, "well.npy"), well)
    np.save(os.path.join(OUT, "bad.npy"), bad)
    fixture = {
        "generator": "make_fair_probe_fixture.py", "sklearn": sklearn.__version__, "numpy": np.__version__,
        "tags": ["tag%d" % t for t in range(TAGS)], "windows_per_clip": WINDOWS, "grid": GRID,
        "splits": {name: {"clips": n, "labels": splits[name][1].astype(int).tolist()} for name, n in CLIPS.items()},
        "sets": {
            "well": {"file": "well.npy", "dim": int(well.shape[1]), "constant_columns": [],
                     "reference": reference(well, splits)},
            "bad": {"file": "bad.npy", "dim": int(bad.shape[1]), "constant_columns": constant_at,
                    "column_scales": [float(s) for s in scale], "reference": reference(bad, splits)},
        },
    }
    with open(os.path.join(OUT, "fixture.json"), "w") as f:
        json.dump(fixture, f, indent=1)


if __name__ == "__main__":
    main()
