package org.clmr.worker.collective;

import java.util.concurrent.atomic.AtomicLong;

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
    private final AtomicLong staleDropped = new AtomicLong();
    private final AtomicLong crcFailures = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
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
     * @param crcFailures    frames whose payload failed its CRC32C (each failed its operation)
     * @param malformed      frames that failed structural validation or disagreed on the op (each failed its operation)
     * @param timeouts       operations that failed on their deadline or on a lost peer
     * @param peersLost      peers found lost (their Aeron connection went down)
     * @param operations     operations completed
     */
    public record Snapshot(long framesSent, long framesReceived, long bytesSent, long bytesReceived,
                           long staleDropped, long crcFailures, long malformed, long timeouts, long peersLost,
                           long operations) {
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

    /** Counts a rejected frame in the counter its verdict names (allocation-free; the receiving thread). */
    void rejected(FrameVerdict verdict) {
        switch (verdict.counter()) {
            case STALE -> staleDropped.incrementAndGet();
            case MALFORMED -> malformed.incrementAndGet();
            case CRC -> crcFailures.incrementAndGet();
            case NONE -> {
            }
        }
    }

    /** The counters now. */
    public Snapshot snapshot() {
        return new Snapshot(framesSent.get(), framesReceived.get(), bytesSent.get(), bytesReceived.get(),
                staleDropped.get(), crcFailures.get(), malformed.get(), timeouts.get(), peersLost.get(),
                operations.get());
    }
}
