package org.clmr.ops.bench;

import org.clmr.protocol.config.ClmrConfig;
import org.clmr.worker.collective.AeronCollective;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.collective.Membership;
import org.clmr.worker.collective.OpTag;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One rank of {@code clmr bench allreduce}, a separate JVM started by {@link BenchAllReduce}. Arguments:
 * {@code rank endpoints(comma) udp|ipc driverDir(or -) bytes(comma) iterations latencyIterations
 * termLength mtu [--set key=value ...]}. Rank 0 prints one line {@code RESULT {json}}: per size the
 * median seconds of an all-reduce and the process CPU seconds per all-reduce, and the p50/p99
 * microseconds of a 4 KB all-reduce.
 */
public final class AllReduceBenchRank {
    static final int LATENCY_FLOATS = 1024;

    private AllReduceBenchRank() {
    }

    /**
     * CPU time of this process's live threads (the caller, the driver keeper, the Aeron client, GC, JIT),
     * summed per thread: nanosecond clocks, where the process clock of the JVM ticks in 10 ms.
     */
    static long processCpuNanos() {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t > 0) {
                sum += t;
            }
        }
        return sum;
    }

    public static void main(String[] args) {
        int rank = Integer.parseInt(args[0]);
        List<String> endpoints = List.of(args[1].split(","));
        boolean ipc = args[2].equals("ipc");
        String dir = args[3].equals("-") ? "" : args[3];
        long[] sizes = Arrays.stream(args[4].split(",")).mapToLong(Long::parseLong).toArray();
        int iterations = Integer.parseInt(args[5]);
        int latencyIterations = Integer.parseInt(args[6]);
        int termLength = Integer.parseInt(args[7]);
        int mtu = Integer.parseInt(args[8]);
        List<String> sets = new ArrayList<>(Arrays.asList(args).subList(9, args.length));
        sets.removeIf("--set"::equals);
        AeronSettings settings = AeronSettings.from(ClmrConfig.load(null, sets))
                .with(!ipc, dir, ipc, endpoints.get(rank)).withSizes(termLength, mtu);
        try (AeronTransport transport = AeronTransport.start(settings);
             AeronCollective c = transport.join(new Membership(1, 0, rank, endpoints))) {
            StringBuilder json = new StringBuilder("{\"sizes\":[");
            long step = 0;
            for (long size : sizes) {
                float[] warm = new float[(int) (size / Float.BYTES)];
                for (int i = 0; i < 5; i++) {
                    c.allReduceSum(new OpTag(0, step++, 0), warm, 0, warm.length);
                }
            }
            for (int s = 0; s < sizes.length; s++) {
                float[] data = new float[(int) (sizes[s] / Float.BYTES)];
                Arrays.fill(data, 1e-3f * (rank + 1));
                double[] seconds = new double[iterations];
                long cpu0 = 0;
                for (int i = -2; i < iterations; i++) {
                    if (i == 0) {
                        cpu0 = processCpuNanos();
                    }
                    long t0 = System.nanoTime();
                    c.allReduceSum(new OpTag(0, step++, 0), data, 0, data.length);
                    if (i >= 0) {
                        seconds[i] = (System.nanoTime() - t0) / 1e9;
                    }
                }
                double cpu = (processCpuNanos() - cpu0) / 1e9 / iterations;
                Arrays.sort(seconds);
                json.append(s == 0 ? "" : ",").append(String.format(Locale.ROOT,
                        "{\"bytes\":%d,\"median_s\":%.9f,\"cpu_s\":%.9f}",
                        (long) data.length * Float.BYTES, seconds[iterations / 2], cpu));
            }
            float[] small = new float[LATENCY_FLOATS];
            long[] nanos = new long[latencyIterations];
            for (int i = -latencyIterations / 4 - 1; i < latencyIterations; i++) {
                long t0 = System.nanoTime();
                c.allReduceSum(new OpTag(0, step++, 0), small, 0, small.length);
                if (i >= 0) {
                    nanos[i] = System.nanoTime() - t0;
                }
            }
            Arrays.sort(nanos);
            json.append(String.format(Locale.ROOT, "],\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f}",
                    nanos[latencyIterations / 2] / 1e3, nanos[(int) (latencyIterations * 0.99)] / 1e3));
            if (rank == 0) {
                System.out.println("RESULT " + json);
                System.out.flush();
            }
        }
    }
}
