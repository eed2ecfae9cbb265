#!/usr/bin/python3
"""Writes the NT-Xent and Adam reference fixtures the gpu-worker tests compare against.

Run once with Debian's torch: /usr/bin/python3 gpu-worker/src/test/scripts/make_ntxent_fixture.py
NT-Xent is SimCLR's formulation (cosine similarity of all 2N rows, diagonal masked, cross entropy with
the positive as target, summed and divided by 2N), in float64. Adam is torch.optim.Adam in float32.
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures")


def nt_xent(z_i, z_j, tau):
    n = z_i.shape[0]
    z = torch.cat((z_i, z_j), dim=0)
    sim = torch.nn.functional.cosine_similarity(z.unsqueeze(1), z.unsqueeze(0), dim=2) / tau
    mask = torch.eye(2 * n, dtype=torch.bool)
    logits = sim.masked_fill(mask, float("-inf"))
    target = torch.cat((torch.arange(n, 2 * n), torch.arange(0, n)))
    return torch.nn.functional.cross_entropy(logits, target, reduction="sum") / (2 * n)


def ntxent_fixture():
    g = torch.Generator().manual_seed(7)
    n, d, tau = 4, 5, 0.5
    z_i = torch.randn(n, d, generator=g, dtype=torch.float64)
    z_j = (z_i + 0.5 * torch.randn(n, d, generator=g, dtype=torch.float64))
    z = torch.cat((z_i, z_j)).float().double().requires_grad_(True)  # values exactly representable in float32
    loss = nt_xent(z[:n], z[n:], tau)
    loss.backward()
    return {"n": n, "dim": d, "temperature": tau, "z": z.detach().flatten().tolist(),
            "loss": loss.item(), "grad": z.grad.flatten().tolist()}


def adam_fixture():
    g = torch.Generator().manual_seed(11)
    p = torch.randn(7, generator=g).requires_grad_(True)
    start = p.detach().clone()
    opt = torch.optim.Adam([p], lr=3e-4, betas=(0.9, 0.999), eps=1e-8)
    grads, after = [], []
    for _ in range(3):
        grad = torch.randn(7, generator=g)
        p.grad = grad.clone()
        opt.step()
        grads.append(grad.tolist())
        after.append(p.detach().clone().tolist())
    return {"lr": 3e-4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "start": start.tolist(),
            "grads": grads, "after": after}


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "ntxent.json"), "w") as f:
        json.dump(ntxent_fixture(), f, indent=1)
    with open(os.path.join(OUT, "adam.json"), "w") as f:
        json.dump(adam_fixture(), f, indent=1)
    print("wrote", OUT)
