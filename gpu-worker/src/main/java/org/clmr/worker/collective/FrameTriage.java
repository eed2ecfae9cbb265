package org.clmr.worker.collective;

import org.clmr.protocol.wire.FrameFlyweight;
import org.clmr.protocol.wire.FrameMac;

/**
 * Judges every frame one {@link PeerLink} receives against the current operation ({@link OpCursor}) and the
 * chunk the link awaits, and counts each rejection: the one place where frames are classified (see
 * {@link FrameVerdict}). A rejected frame is dropped; nothing a frame says fails an operation.
 *
 * <p>The order is the cheapest first: what the frame claims (structure, run, generation, a finished operation)
 * costs a few comparisons, so junk is dropped without computing a MAC; the MAC is computed once for a frame that
 * claims the current or a later operation of this generation while a chunk is due, before anything it says is
 * used. Used by the thread running the operation, inside the subscription's poll; allocates nothing.
 */
final class FrameTriage {
    private final OpCursor op;
    private final int peerRank;
    private final FrameMac mac;
    private final CollectiveMetrics metrics;

    FrameTriage(OpCursor op, int peerRank, FrameMac mac, CollectiveMetrics metrics) {
        this.op = op;
        this.peerRank = peerRank;
        this.mac = mac;
        this.metrics = metrics;
    }

    /**
     * The verdict on frame {@code f}, {@code length} bytes as delivered in one Aeron fragment ({@code whole}
     * false when Aeron's header says it is part of a larger message), while {@code due} is the region the link
     * receives into; a rejection is counted.
     */
    FrameVerdict judge(FrameFlyweight f, int length, boolean whole, ChunkRegion due) {
        FrameVerdict v = classify(f, length, whole, due);
        if (v.rejected()) {
            metrics.rejected(v);
        }
        return v;
    }

    private FrameVerdict classify(FrameFlyweight f, int length, boolean whole, ChunkRegion due) {
        if (!whole || !f.sound(length, mac.length()) || f.sourceRank() != peerRank) {
            return FrameVerdict.MALFORMED;
        }
        if (f.runId() != op.runId()) {
            return FrameVerdict.OTHER_RUN;
        }
        if (f.generation() != op.generation()) {
            return FrameVerdict.OTHER_GENERATION;
        }
        int cmp = op.compareToCurrent(f.step(), f.opSequence(), f.phase());
        if (cmp < 0) {
            return FrameVerdict.FINISHED_OP;
        }
        if (!due.due()) {
            return FrameVerdict.NOT_DUE;
        }
        if (!mac.verify(f, op.rank())) {
            return FrameVerdict.BAD_MAC;
        }
        if (cmp > 0) {
            return FrameVerdict.AHEAD;
        }
        if (f.opKindCode() != op.kind().code() || f.chunkIndex() != due.index()
                || f.chunkCount() != due.count() || f.payloadLength() != due.nextBytes()) {
            return FrameVerdict.MISMATCH;
        }
        return f.crcMatches() ? FrameVerdict.ACCEPTED : FrameVerdict.CORRUPT;
    }
}
