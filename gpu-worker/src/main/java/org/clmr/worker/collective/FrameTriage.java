package org.clmr.worker.collective;

import org.clmr.protocol.wire.FrameFlyweight;

/**
 * Judges every frame one {@link PeerLink} receives against the current operation ({@link OpCursor}) and
 * the chunk the link awaits, counts each rejection and records the failure of those that fail the
 * operation: the one place where frames are classified (see {@link FrameVerdict}). Used by the thread
 * running the operation, inside the subscription's poll; allocates only to explain a failing frame.
 */
final class FrameTriage {
    private final OpCursor op;
    private final int peerRank;
    private final CollectiveMetrics metrics;
    /** {@code FrameFlyweight.validate}'s reason for the last {@link FrameVerdict#MALFORMED} frame. */
    private String invalid;

    FrameTriage(OpCursor op, int peerRank, CollectiveMetrics metrics) {
        this.op = op;
        this.peerRank = peerRank;
        this.metrics = metrics;
    }

    /**
     * The verdict on frame {@code f} ({@code length} bytes as delivered) while {@code due} is the region
     * the link receives into; a rejection is counted and, if it fails the operation, recorded in the
     * cursor with its explanation.
     */
    FrameVerdict judge(FrameFlyweight f, int length, ChunkRegion due) {
        FrameVerdict v = classify(f, length, due);
        if (v.rejected()) {
            metrics.rejected(v);
            if (v.failsOperation()) {
                op.fail(explain(v, f, due));
            }
        }
        return v;
    }

    private FrameVerdict classify(FrameFlyweight f, int length, ChunkRegion due) {
        invalid = f.validate(length);
        if (invalid != null) {
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
        if (cmp > 0) {
            return FrameVerdict.AHEAD;
        }
        if (f.opKindCode() != op.kind().code() || f.sourceRank() != peerRank || f.chunkIndex() != due.index()
                || f.chunkCount() != due.count() || f.payloadLength() != due.nextBytes()) {
            return FrameVerdict.MISMATCH;
        }
        return f.crcMatches() ? FrameVerdict.ACCEPTED : FrameVerdict.CORRUPT;
    }

    /** One line of facts on a frame that fails the operation: who sent what, and what was expected. */
    private String explain(FrameVerdict v, FrameFlyweight f, ChunkRegion due) {
        switch (v) {
            case MALFORMED:
                return "malformed frame from rank " + peerRank + ": " + invalid;
            case AHEAD:
                return "rank " + peerRank + " sent " + f + " while this rank still awaits chunk " + due.index() + " of "
                        + due.count() + " of the current phase (the ranks disagree on the order of operations)";
            case MISMATCH:
                return "rank " + peerRank + " sent " + f + " where this rank expected opKind=" + op.kind().code()
                        + " sourceRank=" + peerRank + " chunkIndex=" + due.index() + " chunkCount=" + due.count()
                        + " payloadLength=" + due.nextBytes() + " (the ranks disagree on the operation)";
            case CORRUPT:
                return "CRC32C mismatch in chunk " + due.index() + " of " + due.count() + " from rank " + peerRank
                        + " (stored " + Integer.toHexString(f.crc()) + ", computed "
                        + Integer.toHexString(f.computePayloadCrc()) + "); refusing to sum corrupt data";
            default:
                throw new IllegalArgumentException("frame verdict " + v + " does not fail an operation");
        }
    }
}
