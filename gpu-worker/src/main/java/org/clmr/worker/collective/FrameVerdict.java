package org.clmr.worker.collective;

/**
 * What one received frame is to the operation its {@link PeerLink} is running, as {@link FrameTriage}
 * judges it, in the order the checks run. Each rejection names the counter it is counted in and whether
 * it fails the operation.
 *
 * <p>Today a frame that is malformed, ahead of the operation, disagrees on it or fails its CRC fails the
 * operation (the ranks cannot agree); a frame of another run, another generation or a finished operation
 * is dropped. A frame MAC and dropping every rejected frame instead of failing (only an operation's
 * deadline fails it) are changes to this enum and {@link FrameTriage} alone.
 */
enum FrameVerdict {
    /** The chunk this link awaits: copied (or summed) into the receive region. */
    ACCEPTED(Counter.NONE, false),
    /** Of the current or a later phase while this link awaits nothing now: left in the log for its phase. */
    NOT_DUE(Counter.NONE, false),
    /** Fails the frame header's structural checks ({@code FrameFlyweight.validate}). */
    MALFORMED(Counter.MALFORMED, true),
    /** Of another run. */
    OTHER_RUN(Counter.STALE, false),
    /** Of another generation of this run. */
    OTHER_GENERATION(Counter.STALE, false),
    /** Of an operation or phase this rank has finished (or abandoned). */
    FINISHED_OP(Counter.STALE, false),
    /** Of a later operation or phase while a chunk of the current one is still due: the ranks disagree on the order. */
    AHEAD(Counter.MALFORMED, true),
    /** Of the current phase but not the chunk due (kind, source, index, count or length differ). */
    MISMATCH(Counter.MALFORMED, true),
    /** The chunk due, but its payload fails its CRC32C. */
    CORRUPT(Counter.CRC, true);

    /** Which {@link CollectiveMetrics} counter a rejection adds to. */
    enum Counter { NONE, STALE, MALFORMED, CRC }

    private final Counter counter;
    private final boolean failsOperation;

    FrameVerdict(Counter counter, boolean failsOperation) {
        this.counter = counter;
        this.failsOperation = failsOperation;
    }

    /** True for a frame that is not taken into the operation and is counted. */
    boolean rejected() {
        return counter != Counter.NONE;
    }

    /** True when the rejection fails the operation rather than dropping the frame. */
    boolean failsOperation() {
        return failsOperation;
    }

    Counter counter() {
        return counter;
    }
}
