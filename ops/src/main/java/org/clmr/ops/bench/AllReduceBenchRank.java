package org.clmr.ops.bench;

import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.wire.FrameKey;
import org.clmr.worker.collective.AeronCollective;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.collective.Membership;
import org.clmr.worker.collective.OpTag;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One rank of {@code clmr bench allreduce}, a separate JVM started by {@link BenchAllReduce}. Arguments:
 * {@code rank endpoints(comma) udp|ipc driverDir(or -) bytes(comma) iterations latencyIterations termLength mtu
 * auth(on|off|on,off) keyFile(or -) [--set key=value ...]}. Each auth mode is a generation of its own, open side
 * by side: with a frame key read from {@code keyFile} (frames carry a MAC) or without one; with two modes every
 * iteration runs both, alternating which goes first, so that both see the same load. Rank 0 prints one line
 * {@code RESULT {json}}: per mode, per size the median seconds of an all-reduce and the process CPU seconds per
 * all-reduce, and the p50/p99 microseconds of a 4 KB all-reduce.
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

    /** One auth mode's generation and what was measured on it. */
    private static final class Mode {
        final String name;
        final AeronCollective collective;
        long step;
        double[] seconds;
        long[] cpuNanos;
        long[] latencyNanos;

        Mode(String name, AeronCollective collective) {
            this.name = name;
            this.collective = collective;
        }

        void allReduce(float[] data) {
            collective.allReduceSum(new OpTag(collective.generation(), step++, 0), data, 0, data.length);
        }
    }

    public static void main(String[] args) throws IOException {
        int rank = Integer.parseInt(args[0]);
        List<String> endpoints = List.of(args[1].split(","));
        boolean ipc = args[2].equals("ipc");
        String dir = args[3].equals("-") ? "" : args[3];
        long[] sizes = Arrays.stream(args[4].split(",")).mapToLong(Long::parseLong).toArray();
        int iterations = Integer.parseInt(args[5]);
        int latencyIterations = Integer.parseInt(args[6]);
        int termLength = Integer.parseInt(args[7]);
        int mtu = Integer.parseInt(args[8]);
        List<String> auth = List.of(args[9].split(","));
        FrameKey key = args[10].equals("-") ? FrameKey.NONE : FrameKey.of(Files.readAllBytes(Path.of(args[10])));
        List<String> sets = new ArrayList<>(Arrays.asList(args).subList(11, args.length));
        sets.removeIf("--set"::equals);
        AeronSettings settings = AeronSettings.from(ClmrConfig.load(null, sets))
                .with(!ipc, dir, ipc, endpoints.get(rank)).withSizes(termLength, mtu);
        List<Mode> modes = new ArrayList<>();
        try (AeronTransport transport = AeronTransport.start(settings)) {
            try {
                for (int g = 0; g < auth.size(); g++) {
                    FrameKey k = auth.get(g).equals("on") ? key : FrameKey.NONE;
                    modes.add(new Mode(auth.get(g), transport.join(new Membership(1, g, rank, endpoints, k))));
                }
                measure(modes, sizes, iterations, latencyIterations);
            } finally {
                modes.forEach(m -> m.collective.close());
            }
        }
        if (rank == 0) {
            System.out.println("RESULT " + json(modes, sizes, iterations, latencyIterations));
            System.out.flush();
        }
    }

    private static void measure(List<Mode> modes, long[] sizes, int iterations, int latencyIterations) {
        for (long size : sizes) {
            float[] warm = new float[(int) (size / Float.BYTES)];
            for (int i = 0; i < 5; i++) {
                for (Mode m : modes) {
                    m.allReduce(warm);
                }
            }
        }
        for (Mode m : modes) {
            m.seconds = new double[sizes.length * iterations];
            m.cpuNanos = new long[sizes.length];
            m.latencyNanos = new long[latencyIterations];
        }
        for (int s = 0; s < sizes.length; s++) {
            float[] data = new float[(int) (sizes[s] / Float.BYTES)];
            Arrays.fill(data, 1e-3f * (modes.get(0).collective.rank() + 1));
            for (int i = -2; i < iterations; i++) {
                for (int j = 0; j < modes.size(); j++) {
                    Mode m = modes.get((i + 2 + j) % modes.size());
                    long cpu0 = processCpuNanos();
                    long t0 = System.nanoTime();
                    m.allReduce(data);
                    long t = System.nanoTime() - t0;
                    if (i >= 0) {
                        m.seconds[s * iterations + i] = t / 1e9;
                        m.cpuNanos[s] += processCpuNanos() - cpu0;
                    }
                }
            }
        }
        float[] small = new float[LATENCY_FLOATS];
        for (int i = -latencyIterations / 4 - 1; i < latencyIterations; i++) {
            for (int j = 0; j < modes.size(); j++) {
                Mode m = modes.get((i + latencyIterations + j) % modes.size());
                long t0 = System.nanoTime();
                m.allReduce(small);
                if (i >= 0) {
                    m.latencyNanos[i] = System.nanoTime() - t0;
                }
            }
        }
    }

    private static String json(List<Mode> modes, long[] sizes, int iterations, int latencyIterations) {
        StringBuilder json = new StringBuilder("{\"modes\":{");
        for (int k = 0; k < modes.size(); k++) {
            Mode m = modes.get(k);
            json.append(k == 0 ? "" : ",").append('"').append(m.name).append("\":{\"sizes\":[");
            for (int s = 0; s < sizes.length; s++) {
                double[] seconds = Arrays.copyOfRange(m.seconds, s * iterations, (s + 1) * iterations);
                Arrays.sort(seconds);
                json.append(s == 0 ? "" : ",").append(String.format(Locale.ROOT,
                        "{\"bytes\":%d,\"median_s\":%.9f,\"cpu_s\":%.9f}", sizes[s] / Float.BYTES * Float.BYTES,
                        seconds[iterations / 2], m.cpuNanos[s] / 1e9 / iterations));
            }
            long[] nanos = m.latencyNanos.clone();
            Arrays.sort(nanos);
            json.append(String.format(Locale.ROOT, "],\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f}",
                    nanos[latencyIterations / 2] / 1e3, nanos[(int) (latencyIterations * 0.99)] / 1e3));
        }
        return json.append("}}").toString();
    }
}
