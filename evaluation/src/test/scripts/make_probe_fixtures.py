#!/usr/bin/python3
"""Generates the probe fixture once with Debian's torch (run with /usr/bin/python3).

Writes evaluation/src/test/resources/probe/steps.json: for a linear head and an MLP head (float64),
the initial parameters, a batch of features and 0/1 targets, and after each of 4 full-batch steps of
torch.optim.Adam (weight_decay as L2 in the gradient) with BCEWithLogitsLoss (mean) the loss and the
parameters. Weights are written input-major (the transpose of nn.Linear.weight), as ProbeHead stores them.

    /usr/bin/python3 evaluation/src/test/scripts/make_probe_fixtures.py
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "probe", "steps.json")


def flat(module_params):
    out = []
    for p in module_params:
        out.append((p.detach().t() if p.dim() == 2 else p.detach()).reshape(-1).tolist())
    return out


def run(kind, x, y, hidden, lr, weight_decay, steps):
    d, t = x.shape[1], y.shape[1]
    if kind == "linear":
        model = torch.nn.Linear(d, t).double()
    else:
        model = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, t)).double()
    initial = flat(model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    losses, params = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        params.append(flat(model.parameters()))
    return {"kind": kind, "in": d, "hidden": hidden, "out": t, "lr": lr, "weight_decay": weight_decay,
            "features": x.tolist(), "targets": y.int().tolist(), "initial": initial,
            "losses": losses, "params": params}


def main():
    torch.manual_seed(7)
    x = torch.randn(10, 6, dtype=torch.float32).double()  # float32 values, as features are stored
    y = (torch.rand(10, 4) < 0.4).double()
    cases = [run("linear", x, y, 0, 0.05, 0.01, 4), run("mlp", x, y, 5, 0.05, 0.01, 4)]
    with open(OUT, "w") as f:
        json.dump({"generator": "make_probe_fixtures.py", "torch": torch.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main()
