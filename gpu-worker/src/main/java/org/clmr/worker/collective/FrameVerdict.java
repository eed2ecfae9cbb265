package org.clmr.worker.collective;

/**
 * What one received frame is to the operation its {@link PeerLink} is running, as {@link FrameTriage} judges
 * it, in the order the checks run: the cheap checks of what a frame claims first, then its MAC, then what only
 * an authenticated frame can tell. Every rejected frame is dropped and counted under its reason (the label of
 * {@code clmr_worker_collective_frames_rejected_total}); none fails an operation or ends a process, whoever
 * sent it: only the operation's deadline does.
 */
enum FrameVerdict {
    /** The chunk this link awaits, authenticated: copied (or summed) into the receive region. */
    ACCEPTED(null, Legacy.NONE),
    /** Of the current or a later phase while this link awaits nothing now: left in the log for its phase. */
    NOT_DUE(null, Legacy.NONE),
    /**
     * Not one sound frame: fragmented, fails {@code FrameFlyweight.validate} (lengths, op kind, phase, chunk, tag),
     * or names a sender other than the one whose stream it came on.
     */
    MALFORMED("malformed", Legacy.MALFORMED),
    /** Claims another run. */
    OTHER_RUN("other_run", Legacy.STALE),
    /** Claims another generation of this run. */
    OTHER_GENERATION("other_generation", Legacy.STALE),
    /** Claims an operation or phase this rank has finished (or abandoned). */
    FINISHED_OP("stale_op", Legacy.STALE),
    /** Claims the current or a later operation while a chunk is due, but its MAC is not the generation's. */
    BAD_MAC("bad_mac", Legacy.NONE),
    /** Authenticated, of a later operation or phase while a chunk of the current one is due: the ranks disagree on the order. */
    AHEAD("ahead", Legacy.MALFORMED),
    /** Authenticated, of the current phase but not the chunk due (kind, index, count or length differ). */
    MISMATCH("mismatch", Legacy.MALFORMED),
    /** Authenticated and the chunk due, but its payload fails its CRC32C (the sender's memory, not the network). */
    CORRUPT("crc", Legacy.CRC);

    /** The counters of {@link CollectiveMetrics.Snapshot} from before reasons were counted, kept for dashboards. */
    enum Legacy { NONE, STALE, MALFORMED, CRC }

    /** Every verdict (values() without its copy). */
    static final FrameVerdict[] ALL = values();

    private final String reason;
    private final Legacy legacy;

    FrameVerdict(String reason, Legacy legacy) {
        this.reason = reason;
        this.legacy = legacy;
    }

    /** True for a frame that is dropped unused and counted. */
    boolean rejected() {
        return reason != null;
    }

    /** The {@code reason} label it is counted under, or null when it is not rejected. */
    String reason() {
        return reason;
    }

    Legacy legacy() {
        return legacy;
    }
}
