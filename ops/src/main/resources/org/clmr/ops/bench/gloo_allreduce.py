"""torch.distributed gloo all_reduce on loopback, for comparison with `clmr bench allreduce`.

Runs N processes (the same N, sizes and iteration counts as the Aeron ranks) and prints one line
`RESULT {json}` from rank 0: per size the median seconds of an all_reduce of float32 and the process CPU
seconds per all_reduce (every thread of rank 0's process), and the p50/p99
microseconds of a 4 KB all_reduce. Needs Debian's python3-torch (/usr/bin/python3).
"""
import argparse
import json
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def run(rank, args):
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(args.port)
    dist.init_process_group("gloo", rank=rank, world_size=args.ranks)
    sizes = []
    for nbytes in args.bytes:
        x = torch.full((nbytes // 4,), 1e-3 * (rank + 1), dtype=torch.float32)
        times = []
        cpu = 0.0
        for i in range(args.iterations + 2):
            dist.barrier()
            c0 = time.process_time()
            t0 = time.perf_counter()
            dist.all_reduce(x)
            t = time.perf_counter() - t0
            if i >= 2:
                times.append(t)
                cpu += time.process_time() - c0
        times.sort()
        sizes.append({"bytes": (nbytes // 4) * 4, "median_s": times[len(times) // 2],
                      "cpu_s": cpu / args.iterations})
    small = torch.zeros(1024, dtype=torch.float32)
    lat = []
    for i in range(args.latency_iterations + args.latency_iterations // 4 + 1):
        t0 = time.perf_counter_ns()
        dist.all_reduce(small)
        t = time.perf_counter_ns() - t0
        if i > args.latency_iterations // 4:
            lat.append(t)
    lat.sort()
    if rank == 0:
        print("RESULT " + json.dumps({
            "sizes": sizes,
            "lat_p50_us": lat[len(lat) // 2] / 1e3,
            "lat_p99_us": lat[int(len(lat) * 0.99)] / 1e3,
        }), flush=True)
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ranks", type=int, required=True)
    p.add_argument("--bytes", type=lambda s: [int(v) for v in s.split(",")], required=True)
    p.add_argument("--iterations", type=int, required=True)
    p.add_argument("--latency-iterations", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    mp.start_processes(run, args=(args,), nprocs=args.ranks, join=True, start_method="spawn")


if __name__ == "__main__":
    main()
