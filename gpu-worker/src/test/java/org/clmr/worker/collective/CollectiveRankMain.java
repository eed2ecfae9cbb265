package org.clmr.worker.collective;

import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.wire.FrameKey;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One rank of the multi-process tests, a separate JVM. Arguments:
 * {@code mode runId rank endpoints(comma) transport(udp|ipc) driverDir(or -) seed outDir key1 key2}: the frame
 * keys (hex) of generation 1 and of the survivors' generation 2, the coordinator's part.
 * Mode {@code ops} runs every operation once and writes each result to {@code outDir/r<rank>-<op>.bin};
 * mode {@code kill} all-reduces in a loop until a peer dies, prints how it failed, then forms the next
 * generation with the survivors and writes its results as {@code g2-r<rank>-<op>.bin}.
 */
public final class CollectiveRankMain {
    static final int DIRECT_N = 1001;
    static final int RING_N = 200_003;
    static final int DOUBLE_N = 515;
    static final int BROADCAST_N = 300_001;
    static final int KILL_N = 400_000;

    private CollectiveRankMain() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        long runId = Long.parseLong(args[1]);
        int rank = Integer.parseInt(args[2]);
        List<String> endpoints = List.of(args[3].split(","));
        boolean ipc = args[4].equals("ipc");
        String driverDir = args[5].equals("-") ? "" : args[5];
        long seed = Long.parseLong(args[6]);
        Path out = Path.of(args[7]);
        FrameKey key = FrameKey.of(HexFormat.of().parseHex(args[8]));
        FrameKey nextKey = FrameKey.of(HexFormat.of().parseHex(args[9]));
        AeronSettings settings = AeronSettings.from(ClmrConfig.defaults())
                .with(!ipc, driverDir, ipc, endpoints.get(rank))
                .withSizes(1024 * 1024, 8192)
                .withTimeouts(Duration.ofSeconds(8), Duration.ofSeconds(40), Duration.ofSeconds(2));
        try (AeronTransport transport = AeronTransport.start(settings)) {
            if (mode.equals("ops")) {
                try (AeronCollective c = transport.join(new Membership(runId, 1, rank, endpoints, key))) {
                    runOps(c, seed, out, "");
                }
            } else {
                killLoop(transport, runId, rank, endpoints, seed, out, key, nextKey);
            }
            System.out.println("METRICS " + transport.metrics().snapshot());
        }
        System.out.println("DONE");
        System.out.flush();
    }

    /** Every op once; results under {@code prefix + "r" + rank}. Inputs are keyed by {@code dataRanks[rank]}. */
    static void runOps(Collective c, long seed, Path out, String prefix) throws IOException {
        int r = c.rank();
        int n = c.worldSize();
        long g = ((AeronCollective) c).generation();
        String file = prefix + "r" + r + "-";

        float[] a = RankData.floats(seed, r, "a", DIRECT_N);
        c.allReduceSum(new OpTag(g, 1, 0), a, 0, a.length);
        write(out.resolve(file + "a.bin"), a);

        float[] b = new float[RING_N + 7];
        System.arraycopy(RankData.floats(seed, r, "b", RING_N), 0, b, 3, RING_N);
        c.allReduceSum(new OpTag(g, 1, 1), b, 3, RING_N);
        write(out.resolve(file + "b.bin"), b);

        double[] d = RankData.doubles(seed, r, "c", DOUBLE_N);
        c.allReduceSum(new OpTag(g, 1, 2), d);
        ByteBuffer bb = ByteBuffer.allocate(d.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.asDoubleBuffer().put(d);
        Files.write(out.resolve(file + "c.bin"), bb.array());

        int[] gc = RankData.gatherCounts(n);
        float[] gathered = c.allGather(new OpTag(g, 2, 0), RankData.floats(seed, r, "d", gc[r]), gc);
        write(out.resolve(file + "d.bin"), gathered);

        int[] sc = RankData.scatterCounts(n);
        float[] scattered = c.reduceScatterSum(new OpTag(g, 2, 1), RankData.floats(seed, r, "e", RankData.sum(sc)), sc);
        write(out.resolve(file + "e.bin"), scattered);

        int root = n - 1;
        byte[] sent = r == root ? RankData.bytes(seed, r, "f", BROADCAST_N) : null;
        byte[] got = c.broadcast(new OpTag(g, 3, 0), sent, root);
        Files.write(out.resolve(file + "f.bin"), got);
    }

    private static void killLoop(AeronTransport transport, long runId, int rank, List<String> endpoints, long seed,
                                 Path out, FrameKey key, FrameKey nextKey) throws Exception {
        List<Integer> silent;
        AeronCollective c = transport.join(new Membership(runId, 1, rank, endpoints, key));
        float[] x = RankData.floats(seed, rank, "k", KILL_N);
        long step = 0;
        long lastOk = System.nanoTime();
        try {
            while (true) {
                c.allReduceSum(new OpTag(1, step++, 0), x, 0, x.length);
                for (int i = 0; i < x.length; i++) {
                    x[i] *= 1e-3f;
                }
                lastOk = System.nanoTime();
                if (step == 1) {
                    System.out.println("LOOPING");
                    System.out.flush();
                }
            }
        } catch (CollectiveTimeoutException e) {
            silent = e.silentRanks();
            System.out.println("FAILED silent=" + silent + " ms=" + (System.nanoTime() - lastOk) / 1_000_000
                    + " message=" + e.getMessage());
            System.out.flush();
        }
        // The coordinator's part: after the failure report, a new generation of the survivors. Keep the old
        // generation open meanwhile, as a worker waits for its Reconfigure, so that peers see a death, not a leave.
        Thread.sleep(3_000);
        c.close();
        List<String> survivors = new ArrayList<>();
        int newRank = -1;
        for (int k = 0; k < endpoints.size(); k++) {
            if (!silent.contains(k)) {
                if (k == rank) {
                    newRank = survivors.size();
                }
                survivors.add(endpoints.get(k));
            }
        }
        try (AeronCollective g2 = transport.join(new Membership(runId, 2, newRank, survivors, nextKey))) {
            float[] a = RankData.floats(seed, rank, "a", DIRECT_N);
            g2.allReduceSum(new OpTag(2, 0, 0), a, 0, a.length);
            write(out.resolve("g2-r" + rank + "-a.bin"), a);
            float[] b = RankData.floats(seed, rank, "b", RING_N);
            g2.allReduceSum(new OpTag(2, 0, 1), b, 0, b.length);
            write(out.resolve("g2-r" + rank + "-b.bin"), b);
        }
        System.out.println("GEN2 OK survivors=" + survivors);
    }

    static void write(Path file, float[] a) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(a);
        Files.write(file, bb.array());
    }

    static byte[] bytesOf(float[] a) {
        ByteBuffer bb = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(a);
        return bb.array();
    }

    static byte[] bytesOf(double[] a) {
        ByteBuffer bb = ByteBuffer.allocate(a.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.asDoubleBuffer().put(a);
        return bb.array();
    }
}
