package org.clmr.worker.collective;

import io.aeron.protocol.DataHeaderFlyweight;
import org.agrona.CloseHelper;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.clmr.protocol.run.Shares;
import org.clmr.protocol.wire.FrameFlyweight;
import org.clmr.protocol.wire.OpKind;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@link Collective} of one generation over Aeron: one exclusive publication to and one subscription
 * from every peer, on stream ids unique to (generation, receiver, sender), so that no frame of another
 * generation can reach an operation of this one. Frames follow {@link FrameFlyweight}.
 *
 * <p>Every operation is one or two <em>phases</em>; in a phase this rank sends one region of an array to
 * each peer and receives one region from each peer, cut into chunks that fit one Aeron frame (below the
 * MTU, hence also below Aeron's largest message, min(term length / 8, 16 MiB)), so that a receiver reads
 * every chunk straight from the log without reassembly. IPC uses the largest MTU, 64 KiB. The
 * calling (training) thread drives the phase itself as an {@link Agent}: {@link #doWork()} offers at most
 * one chunk to each peer and polls the peers it still expects data from, allocating nothing; between
 * rounds without work it backs off (spin, yield, park up to {@code idle-max-park}). Every phase has the
 * operation's deadline; a peer whose Aeron connection goes down fails the operation at once.
 *
 * <p>Determinism: every sum is taken in rank order 0, 1, ..., N-1 by exactly one rank and then copied:
 * <ul>
 *   <li>direct all-reduce (small): every rank sends its vector to every other and sums all N in rank
 *       order; all ranks run the same float additions in the same order, so the bits agree;</li>
 *   <li>ring all-reduce (large): the vector is cut into N segments, segment q owned by rank q. Phase 0
 *       sends each contribution straight to its owner (rank r sends to r+1, r+2, ... in turn, a shifted
 *       ring), the owner sums the N contributions in rank order (with two ranks, x0 + x1 chunk by chunk as
 *       the peer's chunks arrive, so the reduction overlaps the transfer and needs no staging array);
 *       phase 1 sends each owner's result to
 *       every rank, which copies it. A classic ring would accumulate partial sums in a rotated order,
 *       so each segment's rounding would depend on its position in the ring; here every element is
 *       summed in the same order as the direct exchange and a local plain sum, bit for bit. Each rank
 *       still sends and receives 2(N-1)/N of the vector, the ring's optimum.</li>
 * </ul>
 * Not thread safe: called from the training thread only.
 */
public final class AeronCollective implements Collective, Agent {
    private static final long FLOAT_BASE = UnsafeApi.arrayBaseOffset(float[].class);
    private static final long DOUBLE_BASE = UnsafeApi.arrayBaseOffset(double[].class);
    private static final long BYTE_BASE = UnsafeApi.arrayBaseOffset(byte[].class);
    private static final int STREAM_BASE = 0x1000_0000;
    private static final int FRAGMENT_LIMIT = 32;
    /** Aeron's largest MTU; IPC, which no network limits, always uses it (capped by the term length). */
    private static final int MAX_MTU = 65504;
    private static final long LIVENESS_CHECK_NS = TimeUnit.MILLISECONDS.toNanos(1);

    private final AeronTransport transport;
    private final DriverDuty duty;
    private final CollectiveMetrics metrics;
    private final OpCursor op;
    private final long generation;
    private final int rank;
    private final int worldSize;
    private final List<String> endpoints;
    private final boolean ipc;
    private final PeerLink[] peers;
    private final int frameMtu;
    private final int chunkBytes;
    private final int smallThreshold;
    private final long opTimeoutNs;
    private final IdleStrategy idle;
    private final TagOrder order = new TagOrder();
    private final byte[] lengthBox = new byte[8];

    private float[][] stageF = new float[0][];
    private double[][] stageD = new double[0][];
    private float[] accF = new float[0];
    private double[] accD = new double[0];

    private long deadlineNs;
    private boolean closed;

    AeronCollective(AeronTransport transport, Membership m) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("the Aeron collectives copy arrays as little-endian memory; this host is big-endian");
        }
        AeronSettings s = transport.settings();
        this.transport = transport;
        this.duty = transport.duty();
        this.metrics = transport.metrics();
        this.op = new OpCursor(m.runId(), m.generation(), m.rank());
        this.generation = m.generation();
        this.rank = m.rank();
        this.worldSize = m.worldSize();
        this.endpoints = m.endpoints();
        this.ipc = s.ipc();
        this.frameMtu = ipc ? Math.min(MAX_MTU, s.maxMessageLength()) & ~31
                : Math.min(s.udpMtu(endpoints), s.maxMessageLength() & ~31);
        this.chunkBytes = (Math.min(s.maxMessageLength(), frameMtu - DataHeaderFlyweight.HEADER_LENGTH)
                - FrameFlyweight.HEADER_LENGTH) & ~7;
        this.smallThreshold = s.smallThreshold();
        this.opTimeoutNs = s.opTimeout().toNanos();
        this.idle = new BackoffIdleStrategy(s.idleSpins(), s.idleYields(), TimeUnit.MICROSECONDS.toNanos(1),
                s.idleMaxPark().toNanos());
        this.peers = new PeerLink[worldSize];
        try {
            for (int p = 0; p < worldSize; p++) {
                if (p != rank) {
                    peers[p] = new PeerLink(p, op, transport.aeron(), s, endpoints, frameMtu, chunkBytes, metrics);
                }
            }
            awaitConnected(s.connectTimeout().toNanos());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The stream id of frames from {@code sender} to {@code receiver} in {@code generation}. */
    static int streamId(long generation, int receiver, int sender) {
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
        metrics.operations.incrementAndGet();
    }

    @Override
    public void allReduceSum(OpTag tag, double[] data) {
        begin(tag);
        if (worldSize == 1) {
            return;
        }
        op.kind = OpKind.ALL_REDUCE_DIRECT_F64;
        int n = data.length;
        ensureStageD(n);
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(data, DOUBLE_BASE, 0, n, 8);
                p.receive(stageD[p.rank], DOUBLE_BASE, 0, n, 8);
            }
        }
        runPhase(0);
        double[] acc = accD;
        System.arraycopy(rank == 0 ? data : stageD[0], 0, acc, 0, n);
        for (int k = 1; k < worldSize; k++) {
            double[] src = k == rank ? data : stageD[k];
            for (int i = 0; i < n; i++) {
                acc[i] += src[i];
            }
        }
        System.arraycopy(acc, 0, data, 0, n);
        metrics.operations.incrementAndGet();
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
        op.kind = OpKind.ALL_GATHER_F32;
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(local, FLOAT_BASE, 0, local.length, 4);
                p.receive(out, FLOAT_BASE, Shares.offset(counts, p.rank), counts[p.rank], 4);
            }
        }
        runPhase(0);
        metrics.operations.incrementAndGet();
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
        op.kind = OpKind.REDUCE_SCATTER_F32;
        int own = Shares.offset(counts, rank);
        ensureStageF(counts[rank]);
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(data, FLOAT_BASE, Shares.offset(counts, p.rank), counts[p.rank], 4);
                p.receive(stageF[p.rank], FLOAT_BASE, 0, counts[rank], 4);
            }
        }
        runPhase(0);
        sumInRankOrder(data, own, out, 0, counts[rank]);
        metrics.operations.incrementAndGet();
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
        op.kind = OpKind.BROADCAST_BYTES;
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
        runPhase(0);
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
        runPhase(1);
        metrics.operations.incrementAndGet();
        return out;
    }

    private void directSumF32(float[] data, int offset, int length) {
        op.kind = OpKind.ALL_REDUCE_DIRECT_F32;
        ensureStageF(length);
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(data, FLOAT_BASE, offset, length, 4);
                p.receive(stageF[p.rank], FLOAT_BASE, 0, length, 4);
            }
        }
        runPhase(0);
        sumInRankOrder(data, offset, data, offset, length);
    }

    private void ringSumF32(float[] data, int offset, int length) {
        op.kind = OpKind.ALL_REDUCE_RING_F32;
        int own = offset + segmentStart(length, rank);
        int ownLength = segmentLength(length, rank);
        if (worldSize == 2) {
            PeerLink p = peers[1 - rank];
            p.send(data, FLOAT_BASE, offset + segmentStart(length, p.rank), segmentLength(length, p.rank), 4);
            p.receiveSum(data, FLOAT_BASE, own, ownLength, p.rank < rank);
            runPhase(0);
        } else {
            ensureStageF(ownLength);
            for (PeerLink p : peers) {
                if (p != null) {
                    p.send(data, FLOAT_BASE, offset + segmentStart(length, p.rank), segmentLength(length, p.rank), 4);
                    p.receive(stageF[p.rank], FLOAT_BASE, 0, ownLength, 4);
                }
            }
            runPhase(0);
            sumInRankOrder(data, own, data, own, ownLength);
        }
        for (PeerLink p : peers) {
            if (p != null) {
                p.send(data, FLOAT_BASE, own, ownLength, 4);
                p.receive(data, FLOAT_BASE, offset + segmentStart(length, p.rank), segmentLength(length, p.rank), 4);
            }
        }
        runPhase(1);
    }

    /**
     * out[outOff, +n) = ((x0 + x1) + x2) + ... + x(N-1), where x(rank) is {@code own[ownOff, +n)} and the
     * others are the staged contributions: the same float additions in the same order on every rank.
     * Streams each input once; {@code out} may be {@code own} (element i is read before it is written).
     */
    private void sumInRankOrder(float[] own, int ownOff, float[] out, int outOff, int n) {
        if (rank == 0) {
            if (out != own || outOff != ownOff) {
                System.arraycopy(own, ownOff, out, outOff, n);
            }
            for (int k = 1; k < worldSize; k++) {
                addInto(out, outOff, stageF[k], 0, n);
            }
            return;
        }
        float[] acc = accF;
        float[] second = rank == 1 ? own : stageF[1];
        int secondOff = rank == 1 ? ownOff : 0;
        float[] first = stageF[0];
        boolean last = worldSize == 2;
        float[] target = last ? out : acc;
        int targetOff = last ? outOff : 0;
        for (int i = 0; i < n; i++) {
            target[targetOff + i] = first[i] + second[secondOff + i];
        }
        for (int k = 2; k < worldSize; k++) {
            float[] src = k == rank ? own : stageF[k];
            int so = k == rank ? ownOff : 0;
            if (k == worldSize - 1) {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] = acc[i] + src[so + i];
                }
            } else {
                addInto(acc, 0, src, so, n);
            }
        }
    }

    private static void addInto(float[] acc, int accOff, float[] src, int srcOff, int n) {
        for (int i = 0; i < n; i++) {
            acc[accOff + i] += src[srcOff + i];
        }
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

    private void ensureStageF(int n) {
        if (stageF.length != worldSize) {
            stageF = new float[worldSize][];
        }
        for (int p = 0; p < worldSize; p++) {
            if (p != rank && (stageF[p] == null || stageF[p].length < n)) {
                stageF[p] = new float[n];
            }
        }
        if (accF.length < n) {
            accF = new float[n];
        }
    }

    private void ensureStageD(int n) {
        if (stageD.length != worldSize) {
            stageD = new double[worldSize][];
        }
        for (int p = 0; p < worldSize; p++) {
            if (p != rank && (stageD[p] == null || stageD[p].length < n)) {
                stageD[p] = new double[n];
            }
        }
        if (accD.length < n) {
            accD = new double[n];
        }
    }

    private void begin(OpTag tag) {
        if (closed) {
            throw new CollectiveException("collective of generation " + generation + " is closed; op " + tag + " refused");
        }
        order.next(generation, tag);
        op.step = tag.step();
        op.sequence = tag.sequence();
        deadlineNs = System.nanoTime() + opTimeoutNs;
        op.failure = null;
        for (PeerLink p : peers) {
            if (p != null) {
                p.endPhase();
            }
        }
    }

    /** Drives one phase to completion, the deadline, a lost peer or a bad frame. */
    private void runPhase(int newPhase) {
        op.phase = newPhase;
        for (PeerLink p : peers) {
            if (p != null) {
                p.startPhase();
            }
        }
        long nextLivenessCheck = System.nanoTime() + LIVENESS_CHECK_NS;
        idle.reset();
        if (duty != null) {
            duty.acquire();
        }
        try {
            drive(nextLivenessCheck);
        } finally {
            if (duty != null) {
                duty.release();
            }
        }
        for (PeerLink p : peers) {
            if (p != null) {
                p.endPhase();
            }
        }
    }

    private void drive(long firstLivenessCheck) {
        long nextLivenessCheck = firstLivenessCheck;
        while (!phaseComplete()) {
            int work = doWork();
            if (op.failure != null) {
                fail();
            }
            if (work == 0) {
                long now = System.nanoTime();
                if (now - deadlineNs >= 0) {
                    timeout();
                }
                if (now - nextLivenessCheck >= 0) {
                    checkLiveness();
                    nextLivenessCheck = now + LIVENESS_CHECK_NS;
                }
            }
            idle.idle(work);
        }
    }

    private boolean phaseComplete() {
        for (PeerLink p : peers) {
            if (p != null && !p.done()) {
                return false;
            }
        }
        return true;
    }

    /**
     * One duty cycle of the current phase: runs the embedded driver's cycle (if this process has one),
     * offers each peer its next chunk and polls the peers whose chunks are still due, starting from the
     * next rank up (the shifted ring). Allocates nothing.
     */
    @Override
    public int doWork() {
        int work = duty == null ? 0 : duty.invoke();
        for (int s = 1; s < worldSize; s++) {
            PeerLink p = peers[(rank + s) % worldSize];
            work += p.trySend();
            if (p.received < p.recvChunks) {
                work += p.subscription.controlledPoll(p.assembler, FRAGMENT_LIMIT);
            }
            if (op.failure != null) {
                break;
            }
        }
        return work;
    }

    @Override
    public String roleName() {
        return "clmr-collective-g" + generation + "-r" + rank;
    }

    private void fail() {
        String message = "collective " + tag() + " (" + op.kind + ", phase " + op.phase + ") failed on rank " + rank + ": " + op.failure;
        op.failure = null;
        throw new CollectiveException(message);
    }

    private void timeout() {
        metrics.timeouts.incrementAndGet();
        List<Integer> lost = lostPeers();
        if (!lost.isEmpty()) {
            throw lostException(lost);
        }
        List<Integer> silent = new ArrayList<>();
        for (PeerLink p : peers) {
            if (p != null && !p.done()) {
                silent.add(p.rank);
            }
        }
        throw new CollectiveTimeoutException(tag(), silent, TimeUnit.NANOSECONDS.toMillis(opTimeoutNs));
    }

    private void checkLiveness() {
        for (PeerLink p : peers) {
            if (p != null && (p.died || p.ended || p.imageGone() || !p.publication.isConnected())) {
                metrics.timeouts.incrementAndGet();
                throw lostException(lostPeers());
            }
        }
    }

    private CollectiveTimeoutException lostException(List<Integer> lost) {
        metrics.peersLost.addAndGet(lost.size());
        StringBuilder where = new StringBuilder();
        for (int r : lost) {
            where.append(where.length() == 0 ? "" : ", ").append(r).append(ipc ? " (ipc)" : " (udp " + endpoints.get(r) + ")");
        }
        return new CollectiveTimeoutException("collective " + tag() + " (" + op.kind + ") on rank " + rank
                + " lost rank(s) " + where + ": their Aeron connection went down; the generation "
                + generation + " cannot go on", lost);
    }

    /**
     * Peers whose image went away or whose publication no longer has a connected subscriber. Peers whose
     * image timed out (a dead process) are named alone when there are any: a peer that closed this
     * generation cleanly (end of stream) because it saw the same death must not be blamed for it.
     */
    private List<Integer> lostPeers() {
        List<Integer> died = new ArrayList<>();
        List<Integer> lost = new ArrayList<>();
        for (PeerLink p : peers) {
            if (p != null) {
                if (p.died) {
                    died.add(p.rank);
                } else if (!p.publication.isConnected() || p.imageGone() || p.ended) {
                    lost.add(p.rank);
                }
            }
        }
        return died.isEmpty() ? lost : died;
    }

    private OpTag tag() {
        return new OpTag(generation, op.step, op.sequence);
    }

    private void awaitConnected(long timeoutNs) {
        long deadline = System.nanoTime() + timeoutNs;
        idle.reset();
        while (true) {
            List<Integer> missing = new ArrayList<>();
            for (PeerLink p : peers) {
                if (p != null && !p.connected()) {
                    missing.add(p.rank);
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                StringBuilder where = new StringBuilder();
                for (int r : missing) {
                    where.append(where.length() == 0 ? "" : ", ").append(r)
                            .append(ipc ? " (ipc on driver " + transport.directory() + ")" : " (udp " + endpoints.get(r) + ")");
                }
                throw new CollectiveTimeoutException("generation " + generation + " on rank " + rank
                        + ": peer rank(s) " + where + " unreachable: no Aeron connection within "
                        + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms; check that they run this generation, "
                        + "their endpoints and the firewall (clmr.worker.aeron.connect-timeout)", missing);
            }
            idle.idle(0);
        }
    }

    /** Closes this generation's publications and subscriptions; the transport stays open. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (PeerLink p : peers) {
            if (p != null) {
                CloseHelper.quietCloseAll(p.publication, p.subscription);
            }
        }
    }

    @Override
    public void onClose() {
        close();
    }


}
