#!/usr/bin/python3
"""Checks a `clmr export` file against the reference SampleCNN in PyTorch.

Usage: /usr/bin/python3 check_safetensors_export.py encoder.safetensors probe.json

Reads the safetensors file with a small parser (no safetensors package needed), builds the reference
SampleCNN (spijkervet/CLMR's layer structure, written out here; its `fc` is an identity as in CLMR's
pre-training), loads the state dict with strict=True, and compares the encoder output in eval mode on the
fixed probe input with the output clmr computed (probe.json from `clmr export --probe-out`).
Exit 0 and one line "OK ..." when it matches.
"""
import json
import math
import struct
import sys

import torch
import torch.nn as nn

DTYPES = {"F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + begin:base + end]), dtype=DTYPES[info["dtype"]])
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, header.get("__metadata__", {})


class SampleCNN(nn.Module):
    """The reference layer structure: stem, pooled blocks, last conv; widths from the state dict."""

    def __init__(self, stem, widths):
        super().__init__()
        layers = [nn.Sequential(nn.Conv1d(1, stem, kernel_size=3, stride=3, padding=0), nn.BatchNorm1d(stem), nn.ReLU())]
        h_in = stem
        for h_out in widths:
            layers.append(nn.Sequential(nn.Conv1d(h_in, h_out, kernel_size=3, stride=1, padding=1),
                                        nn.BatchNorm1d(h_out), nn.ReLU(), nn.MaxPool1d(3, stride=3)))
            h_in = h_out
        layers.append(nn.Sequential(nn.Conv1d(h_in, h_in, kernel_size=3, stride=1, padding=1),
                                    nn.BatchNorm1d(h_in), nn.ReLU()))
        self.sequential = nn.Sequential(*layers)
        self.fc = nn.Identity()

    def forward(self, x):
        out = self.sequential(x)
        return self.fc(out.reshape(x.shape[0], out.size(1) * out.size(2)))


def probe(batch, length):
    b = torch.arange(batch, dtype=torch.float64).reshape(batch, 1) + 1
    t = torch.arange(length, dtype=torch.float64).reshape(1, length)
    return (0.5 * torch.sin(0.001 * (t + 1) * b) + 0.3 * torch.cos(0.37 * t)).float().reshape(batch, 1, length)


def main():
    state, meta = read_safetensors(sys.argv[1])
    with open(sys.argv[2]) as f:
        expected = json.load(f)
    segments = 1 + max(int(k.split(".")[1]) for k in state)
    widths = [state[f"sequential.{i}.0.weight"].shape[0] for i in range(1, segments - 1)]
    model = SampleCNN(state["sequential.0.0.weight"].shape[0], widths)
    model.load_state_dict(state, strict=True)
    model.eval()
    batch, length = expected["batch"], expected["length"]
    with torch.no_grad():
        h = model(probe(batch, length))
    want = torch.tensor(expected["h"], dtype=torch.float32).reshape(h.shape)
    diff = (h - want).abs().max().item()
    scale = max(1.0, want.abs().max().item())
    ok = diff <= 1e-4 * scale and not math.isnan(diff)
    print(("OK" if ok else "MISMATCH") + f": strict load of {len(state)} tensors into SampleCNN(stem={model.sequential[0][0].out_channels}, "
          f"widths={widths}); eval output {tuple(h.shape)} max |torch - clmr| = {diff:.3g} (step {meta.get('step')})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
