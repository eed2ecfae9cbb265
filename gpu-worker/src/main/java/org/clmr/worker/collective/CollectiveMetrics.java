package org.clmr.worker.collective;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters of one process's collectives, cumulative over generations. Written by the thread running an
 * operation through the package's counting methods (allocation-free increments on the hot path), read
 * from any thread through {@link #snapshot()}.
 */
public final class CollectiveMetrics {
    private final AtomicLong framesSent = new AtomicLong();
    private final AtomicLong framesReceived = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    /** Rejected frames by {@link FrameVerdict} ordinal. */
    private final AtomicLongArray rejected = new AtomicLongArray(FrameVerdict.ALL.length);
    private final AtomicLong timeouts = new AtomicLong();
    private final AtomicLong peersLost = new AtomicLong();
    private final AtomicLong operations = new AtomicLong();
    private final AtomicLong clientsReopened = new AtomicLong();

    /**
     * A consistent-enough copy of the counters.
     *
     * @param framesSent     frames handed to Aeron
     * @param framesReceived frames accepted into an operation
     * @param bytesSent      payload bytes sent
     * @param bytesReceived  payload bytes accepted
     * @param staleDropped   frames of another run, an older generation or an abandoned operation, dropped
     * @param crcFailures    authenticated frames whose payload failed its CRC32C, dropped
     * @param malformed      frames that failed structural validation or disagreed on the op, dropped
     * @param timeouts       operations that failed on their deadline or on a lost peer
     * @param peersLost      peers found lost (their Aeron connection went down)
     * @param operations     operations completed
     * @param rejected       every dropped frame by reason, every reason present (zeros included), in the order
     *                       the checks run: malformed, other_run, other_generation, stale_op, bad_mac, ahead,
     *                       mismatch, crc; the three counters before are sums of some of them
     */
    public record Snapshot(long framesSent, long framesReceived, long bytesSent, long bytesReceived,
                           long staleDropped, long crcFailures, long malformed, long timeouts, long peersLost,
                           long operations, Map<String, Long> rejected) {
        public Snapshot {
            rejected = Collections.unmodifiableMap(new LinkedHashMap<>(rejected));
        }

        /** Frames dropped for {@code reason} (a label of {@link #rejected}); 0 for an unknown reason. */
        public long rejected(String reason) {
            return rejected.getOrDefault(reason, 0L);
        }
    }

    /** Counts a frame of {@code bytes} payload bytes handed to Aeron. */
    void sent(int bytes) {
        framesSent.incrementAndGet();
        bytesSent.addAndGet(bytes);
    }

    /** Counts a frame of {@code bytes} payload bytes accepted into an operation. */
    void received(int bytes) {
        framesReceived.incrementAndGet();
        bytesReceived.addAndGet(bytes);
    }

    /** Counts an operation that failed on its deadline or on a lost peer. */
    void timedOut() {
        timeouts.incrementAndGet();
    }

    /** Counts {@code n} peers found lost. */
    void lost(int n) {
        peersLost.addAndGet(n);
    }

    /** Counts an Aeron client that closed itself (a starved host) and was replaced. */
    void clientReopened() {
        clientsReopened.incrementAndGet();
    }

    /** Aeron clients of this process that closed themselves (a starved host) and were replaced; any thread. */
    public long clientsReopened() {
        return clientsReopened.get();
    }

    /** Counts a completed operation. */
    void completed() {
        operations.incrementAndGet();
    }

    /** Counts a rejected frame under its verdict's reason (allocation-free; the receiving thread). */
    void rejected(FrameVerdict verdict) {
        rejected.incrementAndGet(verdict.ordinal());
    }

    /** The counters now. */
    public Snapshot snapshot() {
        Map<String, Long> byReason = new LinkedHashMap<>();
        long[] legacy = new long[FrameVerdict.Legacy.values().length];
        for (FrameVerdict v : FrameVerdict.ALL) {
            if (v.rejected()) {
                long n = rejected.get(v.ordinal());
                byReason.put(v.reason(), n);
                legacy[v.legacy().ordinal()] += n;
            }
        }
        return new Snapshot(framesSent.get(), framesReceived.get(), bytesSent.get(), bytesReceived.get(),
                legacy[FrameVerdict.Legacy.STALE.ordinal()], legacy[FrameVerdict.Legacy.CRC.ordinal()],
                legacy[FrameVerdict.Legacy.MALFORMED.ordinal()], timeouts.get(), peersLost.get(), operations.get(),
                byReason);
    }
}
