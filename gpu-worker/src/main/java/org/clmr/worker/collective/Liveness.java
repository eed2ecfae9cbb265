package org.clmr.worker.collective;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * When one generation's collective gives up on its peers, and the one line it gives up with: an
 * operation's deadline ({@code op-timeout} from its start) names the ranks it did not hear from; a peer
 * whose Aeron connection went down (checked every {@link #CHECK_INTERVAL_NS} of a phase, between duty
 * cycles without work) fails the operation at once, naming the lost ranks and how they are reached; a
 * new generation whose peers do not connect within {@code connect-timeout} names the unreachable ones.
 *
 * <p>Time is whatever the caller read from the collective's clock and passes in, so that the same logic
 * runs on the system clock in production and on a hand-advanced clock in tests. Used by the thread
 * running the operation only; allocates only to fail.
 */
final class Liveness {
    /** How often a waiting phase asks Aeron whether its peers are still connected. */
    static final long CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(1);

    private final PeerLink[] peers;
    private final OpCursor op;
    private final CollectiveMetrics metrics;
    private final long opTimeoutNs;
    private final boolean ipc;
    private final String driverDirectory;
    private long deadlineNs;
    private long nextCheckNs;

    /**
     * @param peers           the generation's links, index = rank, null at this rank (filled in later is fine)
     * @param driverDirectory the media driver's directory, named when IPC peers do not connect
     */
    Liveness(PeerLink[] peers, OpCursor op, CollectiveMetrics metrics, long opTimeoutNs, boolean ipc,
             String driverDirectory) {
        this.peers = peers;
        this.op = op;
        this.metrics = metrics;
        this.opTimeoutNs = opTimeoutNs;
        this.ipc = ipc;
        this.driverDirectory = driverDirectory;
    }

    /** An operation starts at {@code nowNs}: its deadline is {@code op-timeout} later. */
    void arm(long nowNs) {
        deadlineNs = nowNs + opTimeoutNs;
    }

    /** A phase starts at {@code nowNs}: its first connection check is one interval later. */
    void startPhase(long nowNs) {
        nextCheckNs = nowNs + CHECK_INTERVAL_NS;
    }

    /**
     * A duty cycle found no work at {@code nowNs}: fails the operation if its deadline has passed, or if a
     * check is due and a peer's connection went down.
     *
     * @throws CollectiveTimeoutException naming the silent or lost ranks
     */
    void onIdle(long nowNs) {
        if (nowNs - deadlineNs >= 0) {
            throw timeout();
        }
        if (nowNs - nextCheckNs >= 0) {
            checkPeers();
            nextCheckNs = nowNs + CHECK_INTERVAL_NS;
        }
    }

    private CollectiveTimeoutException timeout() {
        metrics.timedOut();
        List<Integer> lost = lostPeers();
        if (!lost.isEmpty()) {
            return lostException(lost);
        }
        List<Integer> silent = new ArrayList<>();
        for (PeerLink p : peers) {
            if (p != null && !p.done()) {
                silent.add(p.rank());
            }
        }
        return new CollectiveTimeoutException(op.tag(), silent, TimeUnit.NANOSECONDS.toMillis(opTimeoutNs));
    }

    private void checkPeers() {
        for (PeerLink p : peers) {
            if (p != null && p.down()) {
                metrics.timedOut();
                throw lostException(lostPeers());
            }
        }
    }

    private CollectiveTimeoutException lostException(List<Integer> lost) {
        metrics.lost(lost.size());
        StringBuilder where = new StringBuilder();
        for (int r : lost) {
            where.append(where.length() == 0 ? "" : ", ").append(r).append(" (").append(peers[r].endpoint()).append(')');
        }
        return new CollectiveTimeoutException("collective " + op.tag() + " (" + op.kind() + ") on rank " + op.rank()
                + " lost rank(s) " + where + ": their Aeron connection went down; the generation "
                + op.generation() + " cannot go on", lost);
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
                if (p.died()) {
                    died.add(p.rank());
                } else if (p.down()) {
                    lost.add(p.rank());
                }
            }
        }
        return died.isEmpty() ? lost : died;
    }

    /** The ranks not yet connected to this generation, in rank order (empty when all are). */
    List<Integer> unconnected() {
        List<Integer> missing = new ArrayList<>();
        for (PeerLink p : peers) {
            if (p != null && !p.connected()) {
                missing.add(p.rank());
            }
        }
        return missing;
    }

    /** The failure of a generation whose peers {@code missing} did not connect within {@code timeoutNs}. */
    CollectiveTimeoutException unreachable(List<Integer> missing, long timeoutNs) {
        StringBuilder where = new StringBuilder();
        for (int r : missing) {
            where.append(where.length() == 0 ? "" : ", ").append(r).append(" (").append(peers[r].endpoint())
                    .append(ipc ? " on driver " + driverDirectory : "").append(')');
        }
        return new CollectiveTimeoutException("generation " + op.generation() + " on rank " + op.rank()
                + ": peer rank(s) " + where + " unreachable: no Aeron connection within "
                + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms; check that they run this generation, "
                + "their endpoints and the firewall (clmr.worker.aeron.connect-timeout)", missing);
    }
}
