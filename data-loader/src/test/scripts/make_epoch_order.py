#!/usr/bin/env python3
"""Writes epoch-order.json: epoch permutations and crop offsets computed by an independent Python
implementation of the project's PRNG (xoshiro256** seeded through SplitMix64, Rng.derive, Lemire's
nextInt, nextLong(bound), Fisher-Yates). EpochPlanTest checks the Java code against it, which pins the
sampling order forever. Run once: /usr/bin/python3 make_epoch_order.py > ../resources/org/clmr/data/sampling/epoch-order.json
"""
import json

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(z):
    z &= M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def derive(*keys):
    h = 0x6A09E667F3BCC909
    for k in keys:
        h = mix(h ^ mix((k & M64) + GOLDEN))
    return h


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class Rng:
    def __init__(self, seed):
        x = seed & M64
        s = []
        for _ in range(4):
            x = (x + GOLDEN) & M64
            s.append(mix(x))
        self.s = s

    def next_long(self):
        s0, s1, s2, s3 = self.s
        result = (rotl((s1 * 5) & M64, 7) * 9) & M64
        t = (s1 << 17) & M64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def next_int(self, bound):
        m = (self.next_long() >> 32) * bound
        low = m & 0xFFFFFFFF
        if low < bound:
            threshold = ((1 << 32) - bound) % bound
            while low < threshold:
                m = (self.next_long() >> 32) * bound
                low = m & 0xFFFFFFFF
        return m >> 32

    def next_long_bounded(self, bound):
        max_long = (1 << 63) - 1
        limit = max_long - (max_long % bound)
        while True:
            r = self.next_long() >> 1
            if r < limit:
                return r % bound

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.next_int(i + 1)
            a[i], a[j] = a[j], a[i]


cases = []
for seed, epoch, n in [(42, 0, 20), (42, 1, 20), (7, 3, 97), (-5, 12, 50), (2**40 + 3, 9999, 33)]:
    order = list(range(n))
    Rng(derive(seed, epoch)).shuffle(order)
    cases.append({"seed": seed, "epoch": epoch, "items": n, "order": order})
crops = []
for seed, epoch, item, view, bound in [(42, 0, 5, 0, 600000), (42, 0, 5, 1, 600000), (-1, 7, 123, 0, 1000),
                                       (3, 2, 0, 1, 1)]:
    crops.append({"seed": seed, "epoch": epoch, "item": item, "view": view, "bound": bound,
                  "offset": Rng(derive(seed, epoch, item, view)).next_long_bounded(bound)})
print(json.dumps({"permutations": cases, "cropOffsets": crops}, indent=1))
