package org.clmr.worker.collective;

import io.aeron.protocol.DataHeaderFlyweight;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.clmr.protocol.run.Shares;
import org.clmr.protocol.wire.FrameFlyweight;
import org.clmr.protocol.wire.FrameMac;
import org.clmr.protocol.wire.OpKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@link Collective} of one generation over Aeron: one exclusive publication to and one subscription
 * from every peer ({@link PeerLink}), on stream ids unique to (generation, receiver, sender), so that no
 * frame of another generation can reach an operation of this one. Frames follow {@link FrameFlyweight}; each
 * carries a MAC under the generation's key ({@link FrameMac}), and a frame that fails it, is malformed or
 * belongs elsewhere is dropped and counted, never failing an operation (only its deadline does).
 *
 * <p>Every operation is one or two <em>phases</em>; in a phase this rank sends one region of an array to
 * each peer and receives one region from each peer, cut into chunks that fit one Aeron frame (below the
 * MTU, hence also below Aeron's largest message, min(term length / 8, 16 MiB)), so that a receiver reads
 * every chunk straight from the log without reassembly. IPC uses the largest MTU, 64 KiB. This class
 * says what each phase moves; the calling thread drives it through the {@link PhaseDriver} (the duty
 * cycle that moves frames); {@link Liveness} holds the deadlines and says who was silent or lost.
 *
 * <p>Determinism: every sum is taken in rank order 0, 1, ..., N-1 by exactly one rank and then copied
 * ({@link RankOrderSum}):
 * <ul>
 *   <li>direct all-reduce (small): every rank sends its vector to every other and sums all N in rank
 *       order; all ranks run the same float additions in the same order, so the bits agree;</li>
 *   <li>ring all-reduce (large): the vector is cut into N segments, segment q owned by rank q. Phase 0
 *       sends each contribution straight to its owner (rank r sends to r+1, r+2, ... in turn, a shifted
 *       ring), the owner sums the N contributions in rank order (with two ranks, x0 + x1 chunk by chunk as
 *       the peer's chunks arrive, so the reduction overlaps the transfer and needs no staging array);
 *       phase 1 sends each owner's result to every rank, which copies it. A classic ring would accumulate
 *       partial sums in a rotated order, so each segment's rounding would depend on its position in the
 *       ring; here every element is summed in the same order as the direct exchange and a local plain
 *       sum, bit for bit. Each rank still sends and receives 2(N-1)/N of the vector, the ring's optimum.</li>
 * </ul>
 * Not thread safe: one thread at a time runs its operations (a step's {@link CommThread}, or the training
 * thread between steps), and closes it.
 */
public final class AeronCollective implements Collective {
    private static final Logger LOG = LoggerFactory.getLogger(AeronCollective.class);
    private static final long FLOAT_BASE = UnsafeApi.arrayBaseOffset(float[].class);
    private static final long DOUBLE_BASE = UnsafeApi.arrayBaseOffset(double[].class);
    private static final long BYTE_BASE = UnsafeApi.arrayBaseOffset(byte[].class);
    private static final int STREAM_BASE = 0x1000_0000;
    /** Aeron's largest MTU; IPC, which no network limits, always uses it (capped by the term length). */
    private static final int MAX_MTU = 65504;

    private final CollectiveMetrics metrics;
    private final long generation;
    private final int rank;
    private final int worldSize;
    private final PeerLink[] peers;
    private final int chunkBytes;
    private final int smallThreshold;
    private final PhaseDriver driver;
    private final RankOrderSum sums;
    private final byte[] lengthBox = new byte[8];
    /** The counters when this generation opened, so that its close can say what it dropped. */
    private final CollectiveMetrics.Snapshot opened;
    private boolean closed;

    AeronCollective(AeronTransport transport, Membership m) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("the Aeron collectives copy arrays as little-endian memory; this host is big-endian");
        }
        AeronSettings s = transport.settings();
        this.metrics = transport.metrics();
        this.opened = metrics.snapshot();
        this.generation = m.generation();
        this.rank = m.rank();
        this.worldSize = m.worldSize();
        int frameMtu = frameMtu(s, m.endpoints());
        FrameMac mac = FrameMac.of(m.frameKey());
        this.chunkBytes = (Math.min(s.maxMessageLength(), frameMtu - DataHeaderFlyweight.HEADER_LENGTH)
                - FrameFlyweight.HEADER_LENGTH - mac.length()) & ~7;
        this.smallThreshold = s.smallThreshold();
        this.peers = new PeerLink[worldSize];
        this.sums = new RankOrderSum(rank, worldSize);
        OpCursor op = new OpCursor(m.runId(), m.generation(), m.rank());
        Liveness liveness = new Liveness(peers, op, metrics, s.opTimeout().toNanos(), s.ipc(), transport.directory());
        this.driver = new PhaseDriver(peers, op, transport.duty(), transport.clock(),
                new BackoffIdleStrategy(s.idleSpins(), s.idleYields(), TimeUnit.MICROSECONDS.toNanos(1),
                        s.idleMaxPark().toNanos()), liveness);
        try {
            for (int p = 0; p < worldSize; p++) {
                if (p != rank) {
                    peers[p] = new PeerLink(p, op, transport.aeron(), s, m.endpoints(), frameMtu, chunkBytes, mac, metrics);
                }
            }
            driver.awaitConnected(s.connectTimeout().toNanos());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static int frameMtu(AeronSettings s, List<String> endpoints) {
        return s.ipc() ? Math.min(MAX_MTU, s.maxMessageLength()) & ~31
                : Math.min(s.udpMtu(endpoints), s.maxMessageLength() & ~31);
    }

    /**
     * The stream id of frames from {@code sender} to {@code receiver} in {@code generation} (public: anyone who
     * knows the generation can derive it, which is why frames carry a MAC).
     */
    public static int streamId(long generation, int receiver, int sender) {
        return STREAM_BASE + (int) ((generation & 0x3FF) << 16) + (receiver << 8) + sender;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return worldSize;
    }

    /** This generation. */
    public long generation() {
        return generation;
    }

    /** The process's counters (shared by every generation of its transport). */
    public CollectiveMetrics metrics() {
        return metrics;
    }

    /** Payload bytes per frame. */
    int chunkBytes() {
        return chunkBytes;
    }

    @Override
    public void allReduceSum(OpTag tag, float[] data, int offset, int length) {
        begin(tag);
        Args.checkRange(data.length, offset, length);
        if (worldSize == 1) {
            return;
        }
        if ((long) length * Float.BYTES <= smallThreshold) {
            directSumF32(data, offset, length);
        } else {
            ringSumF32(data, offset, length);
        }
        metrics.completed();
    }

    @Override
    public void allReduceSum(OpTag tag, double[] data) {
        begin(tag);
        if (worldSize == 1) {
            return;
        }
        driver.kind(OpKind.ALL_REDUCE_DIRECT_F64);
        int n = data.length;
        sums.reserveDoubles(n);
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(data, DOUBLE_BASE, 0, n, 8);
                p.receive(sums.doubleStage(p.rank()), DOUBLE_BASE, 0, n, 8);
            }
        }
        driver.runPhase(0);
        sums.sumDoubles(data, n);
        metrics.completed();
    }

    @Override
    public float[] allGather(OpTag tag, float[] local, int[] counts) {
        begin(tag);
        Args.checkCounts(counts, worldSize, rank, local.length);
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        float[] out = new float[total];
        System.arraycopy(local, 0, out, Shares.offset(counts, rank), local.length);
        if (worldSize == 1) {
            return out;
        }
        driver.kind(OpKind.ALL_GATHER_F32);
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(local, FLOAT_BASE, 0, local.length, 4);
                p.receive(out, FLOAT_BASE, Shares.offset(counts, p.rank()), counts[p.rank()], 4);
            }
        }
        driver.runPhase(0);
        metrics.completed();
        return out;
    }

    @Override
    public float[] reduceScatterSum(OpTag tag, float[] data, int[] counts) {
        begin(tag);
        Args.checkCounts(counts, worldSize, -1, data.length);
        float[] out = new float[counts[rank]];
        if (worldSize == 1) {
            System.arraycopy(data, 0, out, 0, out.length);
            return out;
        }
        driver.kind(OpKind.REDUCE_SCATTER_F32);
        int own = Shares.offset(counts, rank);
        sums.reserveFloats(counts[rank]);
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(data, FLOAT_BASE, Shares.offset(counts, p.rank()), counts[p.rank()], 4);
                p.receive(sums.floatStage(p.rank()), FLOAT_BASE, 0, counts[rank], 4);
            }
        }
        driver.runPhase(0);
        sums.sumFloats(data, own, out, 0, counts[rank]);
        metrics.completed();
        return out;
    }

    @Override
    public byte[] broadcast(OpTag tag, byte[] data, int root) {
        begin(tag);
        if (root < 0 || root >= worldSize) {
            throw new IllegalArgumentException("broadcast root " + root + " outside [0, " + worldSize + ")");
        }
        if (rank == root && data == null) {
            throw new IllegalArgumentException("broadcast root " + root + " (this rank) must supply data");
        }
        if (worldSize == 1) {
            return data.clone();
        }
        driver.kind(OpKind.BROADCAST_BYTES);
        exchangeLength(data, root);
        byte[] out;
        if (rank == root) {
            out = data.clone();
            for (PeerLink p : peers) {
                if (p != null) {
                    p.send(data, BYTE_BASE, 0, data.length, 1);
                }
            }
        } else {
            long length = new UnsafeBuffer(lengthBox).getLong(0, FrameFlyweight.BYTE_ORDER);
            if (length < 0 || length > Integer.MAX_VALUE - 16) {
                throw new CollectiveException("broadcast " + tag + " from rank " + root + " announced " + length
                        + " bytes, outside [0, 2^31)");
            }
            out = new byte[(int) length];
            peers[root].receive(out, BYTE_BASE, 0, out.length, 1);
        }
        driver.runPhase(1);
        metrics.completed();
        return out;
    }

    /** Phase 0 of a broadcast: the root sends the byte count (8 bytes, little-endian) to every rank. */
    private void exchangeLength(byte[] data, int root) {
        if (rank == root) {
            new UnsafeBuffer(lengthBox).putLong(0, data.length, FrameFlyweight.BYTE_ORDER);
            for (PeerLink p : peers) {
                if (p != null) {
                    p.send(lengthBox, BYTE_BASE, 0, 8, 1);
                }
            }
        } else {
            peers[root].receive(lengthBox, BYTE_BASE, 0, 8, 1);
        }
        driver.runPhase(0);
    }

    private void directSumF32(float[] data, int offset, int length) {
        driver.kind(OpKind.ALL_REDUCE_DIRECT_F32);
        sums.reserveFloats(length);
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(data, FLOAT_BASE, offset, length, 4);
                p.receive(sums.floatStage(p.rank()), FLOAT_BASE, 0, length, 4);
            }
        }
        driver.runPhase(0);
        sums.sumFloats(data, offset, data, offset, length);
    }

    private void ringSumF32(float[] data, int offset, int length) {
        driver.kind(OpKind.ALL_REDUCE_RING_F32);
        int own = offset + segmentStart(length, rank);
        int ownLength = segmentLength(length, rank);
        if (worldSize == 2) {
            PeerLink p = peers[1 - rank];
            p.send(data, FLOAT_BASE, offset + segmentStart(length, p.rank()), segmentLength(length, p.rank()), 4);
            p.receiveSum(data, FLOAT_BASE, own, ownLength, p.rank() < rank);
            driver.runPhase(0);
        } else {
            sums.reserveFloats(ownLength);
            for (PeerLink p : peers) {
                if (p != null) {
                    p.send(data, FLOAT_BASE, offset + segmentStart(length, p.rank()), segmentLength(length, p.rank()), 4);
                    p.receive(sums.floatStage(p.rank()), FLOAT_BASE, 0, ownLength, 4);
                }
            }
            driver.runPhase(0);
            sums.sumFloats(data, own, data, own, ownLength);
        }
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(data, FLOAT_BASE, own, ownLength, 4);
                p.receive(data, FLOAT_BASE, offset + segmentStart(length, p.rank()), segmentLength(length, p.rank()), 4);
            }
        }
        driver.runPhase(1);
    }

    static int segmentLength(int length, int q, int n) {
        return length / n + (q < length % n ? 1 : 0);
    }

    static int segmentStart(int length, int q, int n) {
        return q * (length / n) + Math.min(q, length % n);
    }

    private int segmentLength(int length, int q) {
        return segmentLength(length, q, worldSize);
    }

    private int segmentStart(int length, int q) {
        return segmentStart(length, q, worldSize);
    }

    private void begin(OpTag tag) {
        if (closed) {
            throw new CollectiveException("collective of generation " + generation + " is closed; op " + tag + " refused");
        }
        driver.begin(tag);
    }

    /**
     * Closes this generation's publications and subscriptions; the transport stays open. Says in one warning
     * line how many frames the generation dropped, by reason, if it dropped any.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (PeerLink p : peers) {
            if (p != null) {
                p.close();
            }
        }
        Map<String, Long> dropped = droppedSinceOpened();
        if (!dropped.isEmpty()) {
            LOG.warn("generation {} on rank {} dropped frames: {}", generation, rank, dropped);
        }
    }

    /** Frames dropped by this generation so far, by reason, the reasons with none left out. */
    Map<String, Long> droppedSinceOpened() {
        Map<String, Long> dropped = new LinkedHashMap<>();
        metrics.snapshot().rejected().forEach((reason, n) -> {
            long d = n - opened.rejected(reason);
            if (d > 0) {
                dropped.put(reason, d);
            }
        });
        return dropped;
    }
}
