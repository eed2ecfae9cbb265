package org.clmr.worker.collective;

import org.clmr.protocol.wire.FrameFlyweight;
import org.clmr.protocol.wire.OpKind;

/**
 * The operation an {@link AeronCollective} is running, shared with its {@link PeerLink}s: what every
 * frame sent carries ({@link #stamp}) and every frame received is compared with ({@link #compareToCurrent}),
 * and the failure a link found on the way. Used by the thread running the operation only.
 */
final class OpCursor {
    private final long runId;
    private final long generation;
    private final int rank;
    private long step;
    private int sequence;
    private OpKind kind;
    private int phase;
    /** Set by a peer link on a bad frame or a closed publication; the phase driver throws it. */
    private String failure;

    OpCursor(long runId, long generation, int rank) {
        this.runId = runId;
        this.generation = generation;
        this.rank = rank;
    }

    long runId() {
        return runId;
    }

    long generation() {
        return generation;
    }

    /** This process's rank, the source rank of every frame it sends. */
    int rank() {
        return rank;
    }

    /** Starts the operation {@code tag} (already checked to follow the previous one); clears any failure. */
    void begin(OpTag tag) {
        step = tag.step();
        sequence = tag.sequence();
        failure = null;
    }

    /** The algorithm of the current operation, as frames carry it. */
    void kind(OpKind newKind) {
        kind = newKind;
    }

    OpKind kind() {
        return kind;
    }

    void phase(int newPhase) {
        phase = newPhase;
    }

    int phase() {
        return phase;
    }

    /** The current operation's tag (allocates: error messages only). */
    OpTag tag() {
        return new OpTag(generation, step, sequence);
    }

    /** Writes the header of one outgoing chunk of the current phase (the CRC is sealed after the payload). */
    void stamp(FrameFlyweight tx, int chunkIndex, int chunkCount, int payloadLength) {
        tx.runId(runId).generation(generation).step(step).opSequence(sequence).opKind(kind).phase(phase)
                .sourceRank(rank).chunkIndex(chunkIndex).chunkCount(chunkCount).payloadLength(payloadLength);
    }

    /** True when a frame's run and generation are this collective's. */
    boolean ownsFrame(long frameRunId, long frameGeneration) {
        return frameRunId == runId && frameGeneration == generation;
    }

    /** Negative if a frame's (step, sequence, phase) precedes the current one, positive if it follows. */
    int compareToCurrent(long frameStep, int frameSequence, int framePhase) {
        if (frameStep != step) {
            return frameStep < step ? -1 : 1;
        }
        if (frameSequence != sequence) {
            return frameSequence < sequence ? -1 : 1;
        }
        return Integer.compare(framePhase, phase);
    }

    /** Records why the current operation cannot complete; the driver throws it after the peer's turn. */
    void fail(String why) {
        failure = why;
    }

    boolean failed() {
        return failure != null;
    }

    /** The recorded failure, cleared. */
    String takeFailure() {
        String f = failure;
        failure = null;
        return f;
    }
}
