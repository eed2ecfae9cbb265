#!/usr/bin/python3
"""The PyTorch side of `clmr bench model`: the same SampleCNN + projection head, NT-Xent and Adam.

Usage: python3 bench_model_torch.py STEM W1,W2,... PROJ LENGTH BATCH ITERS WARMUP THREADS [wall|cpu [MAX_WARMUP]]
Prints one JSON object: milliseconds per waveform for forward (training mode and autograd recording, as
a training step runs it; one view), forward +
backward, and a full CLMR step (two views, NT-Xent, backward, Adam), the fastest of ITERS runs, by
elapsed time (wall) or by the CPU time of this thread (cpu; with THREADS 1 all work runs on it). Warm-up as
on the DJL side (ops bench Warmup): at least WARMUP runs, then until SETTLED_RUNS runs in a row take fewer
than SETTLED_FAULTS minor page faults (the heap has stopped growing), MAX_WARMUP runs at most.
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def sample_cnn(stem, widths):
    layers = [nn.Sequential(nn.Conv1d(1, stem, 3, stride=3), nn.BatchNorm1d(stem), nn.ReLU())]
    h = stem
    for w in widths:
        layers.append(nn.Sequential(nn.Conv1d(h, w, 3, padding=1), nn.BatchNorm1d(w), nn.ReLU(), nn.MaxPool1d(3, 3)))
        h = w
    layers.append(nn.Sequential(nn.Conv1d(h, h, 3, padding=1), nn.BatchNorm1d(h), nn.ReLU()))
    for m in layers:
        nn.init.kaiming_uniform_(m[0].weight, mode="fan_in", nonlinearity="relu")
    return nn.Sequential(*layers), h


class Clmr(nn.Module):
    def __init__(self, stem, widths, proj):
        super().__init__()
        self.encoder, d = sample_cnn(stem, widths)
        self.projector = nn.Sequential(nn.Linear(d, d, bias=False), nn.ReLU(), nn.Linear(d, proj, bias=False))

    def forward(self, x):
        return self.projector(self.encoder(x).flatten(1))


def nt_xent(z1, z2, tau=0.5):
    n = z1.shape[0]
    z = torch.cat((z1, z2))
    sim = F.cosine_similarity(z.unsqueeze(1), z.unsqueeze(0), dim=2) / tau
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    target = torch.cat((torch.arange(n, 2 * n), torch.arange(0, n)))
    return F.cross_entropy(sim, target, reduction="sum") / (2 * n)


SETTLED_FAULTS = 2000
SETTLED_RUNS = 2


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def timed(fn, iters, warmup, clock, max_warmup):
    runs = settled = 0
    while 0 < warmup and runs < max(warmup, max_warmup):
        before = minor_faults()
        fn()
        runs += 1
        settled = settled + 1 if minor_faults() - before < SETTLED_FAULTS else 0
        if runs >= warmup and settled >= SETTLED_RUNS:
            break
    out = []
    for _ in range(iters):
        t = clock()
        fn()
        out.append(clock() - t)
    return min(out)


def main():
    stem, widths, proj, length, batch, iters, warmup, threads = sys.argv[1:9]
    clock = time.thread_time if len(sys.argv) > 9 and sys.argv[9] == "cpu" else time.perf_counter
    max_warmup = int(sys.argv[10]) if len(sys.argv) > 10 else int(warmup)
    if int(threads) > 0:
        torch.set_num_threads(int(threads))
        torch.set_num_interop_threads(int(threads))
    torch.manual_seed(0)
    model = Clmr(int(stem), [int(w) for w in widths.split(",")], int(proj)).train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    b, n = int(batch), int(length)
    x1, x2 = torch.randn(b, 1, n), torch.randn(b, 1, n)
    g = torch.randn(b, int(proj))

    def forward():
        # recorded as in training (the graph is built, then dropped), as the DJL side measures it
        model(x1)

    def forward_backward():
        (model(x1) * g).sum().backward()
        model.zero_grad(set_to_none=False)

    def step():
        loss = nt_xent(model(x1), model(x2))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)

    it, wu = int(iters), int(warmup)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        "forward_ms_per_waveform": 1000 * timed(forward, it, wu, clock, max_warmup) / b,
        "forward_backward_ms_per_waveform": 1000 * timed(forward_backward, it, wu, clock, max_warmup) / b,
        "step_ms_per_waveform": 1000 * timed(step, it, wu, clock, max_warmup) / (2 * b),
    }))


if __name__ == "__main__":
    main()
