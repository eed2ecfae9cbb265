package org.clmr.worker.collective;

import org.clmr.protocol.wire.OpKind;

/**
 * The operation an {@link AeronCollective} is running, shared with its {@link PeerLink}s: what every
 * frame sent carries and every frame received is compared with. Training thread only.
 */
final class OpCursor {
    final long runId;
    final long generation;
    final int rank;
    long step;
    int sequence;
    OpKind kind;
    int phase;
    /** Set by a peer link on a bad frame or a closed publication; the driving loop throws it. */
    String failure;

    OpCursor(long runId, long generation, int rank) {
        this.runId = runId;
        this.generation = generation;
        this.rank = rank;
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
}
