package org.clmr.worker.collective;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.clmr.protocol.wire.OpKind;

import java.util.List;

/**
 * Moves the frames of one generation's collective: the operation's start (tag order, deadline), then each
 * phase driven to completion as an Agrona {@link Agent} whose duty cycle ({@link #doWork()}) offers each
 * peer its next chunk and polls the peers whose chunks are still due, allocating nothing. Between cycles
 * without work the caller backs off on the idle strategy (spin, yield, park up to {@code idle-max-park})
 * and {@link Liveness} checks the deadline and the peers' connections on the injected clock.
 *
 * <p>An embedded media driver's duty cycle ({@link DriverDuty}) runs inside this one while a phase runs,
 * so a frame goes to and comes off the network without a thread hand-off.
 *
 * <p>Threads: one thread at a time runs an operation, from {@link #begin} to the end of its last
 * {@link #runPhase}: today the training thread; a communication thread that runs gradient buckets while
 * the backward goes on would own this driver (and its {@link AeronCollective}) alone, taking work from a
 * queue. Nothing here is safe to call from a second thread.
 */
final class PhaseDriver implements Agent {
    private final PeerLink[] peers;
    private final OpCursor op;
    private final int rank;
    private final int worldSize;
    private final DriverDuty duty;
    private final NanoClock clock;
    private final IdleStrategy idle;
    private final Liveness liveness;
    private final TagOrder order = new TagOrder();

    /**
     * @param peers the generation's links, index = rank, null at this rank (opened by the caller after)
     * @param duty  the embedded driver's duty cycle, or null when the driver runs elsewhere
     */
    PhaseDriver(PeerLink[] peers, OpCursor op, DriverDuty duty, NanoClock clock, IdleStrategy idle, Liveness liveness) {
        this.peers = peers;
        this.op = op;
        this.rank = op.rank();
        this.worldSize = peers.length;
        this.duty = duty;
        this.clock = clock;
        this.idle = idle;
        this.liveness = liveness;
    }

    /**
     * Starts operation {@code tag}: checks that it follows the previous one, arms its deadline and clears
     * every peer's regions. Called before the operation's arguments are checked, so a refused call still
     * uses up its tag, on every rank alike.
     */
    void begin(OpTag tag) {
        order.next(op.generation(), tag);
        op.begin(tag);
        liveness.arm(clock.nanoTime());
        for (PeerLink p : peers) {
            if (p != null) {
                p.endPhase();
            }
        }
    }

    /** The algorithm the operation's frames carry; set before its first phase. */
    void kind(OpKind kind) {
        op.kind(kind);
    }

    /**
     * Drives phase {@code phase} of the current operation until every peer's regions set for it are
     * through; then clears them.
     *
     * @throws CollectiveTimeoutException on the deadline or a lost peer
     * @throws CollectiveException        on a frame that fails the operation or a closed publication
     */
    void runPhase(int phase) {
        op.phase(phase);
        for (PeerLink p : peers) {
            if (p != null) {
                p.startPhase();
            }
        }
        liveness.startPhase(clock.nanoTime());
        idle.reset();
        if (duty != null) {
            duty.acquire();
        }
        try {
            drive();
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

    private void drive() {
        while (!phaseComplete()) {
            int work = doWork();
            if (op.failed()) {
                throw failure();
            }
            if (work == 0) {
                liveness.onIdle(clock.nanoTime());
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
     * next rank up (the shifted ring). Stops early once a peer's frame fails the operation. Allocates nothing.
     */
    @Override
    public int doWork() {
        int work = duty == null ? 0 : duty.invoke();
        for (int s = 1; s < worldSize; s++) {
            PeerLink p = peers[(rank + s) % worldSize];
            work += p.trySend();
            work += p.poll();
            if (op.failed()) {
                break;
            }
        }
        return work;
    }

    @Override
    public String roleName() {
        return "clmr-collective-g" + op.generation() + "-r" + rank;
    }

    private CollectiveException failure() {
        return new CollectiveException("collective " + op.tag() + " (" + op.kind() + ", phase " + op.phase()
                + ") failed on rank " + rank + ": " + op.takeFailure());
    }

    /**
     * Waits until every peer of the new generation is connected both ways.
     *
     * @throws CollectiveTimeoutException naming the unreachable ranks after {@code timeoutNs}
     */
    void awaitConnected(long timeoutNs) {
        long deadline = clock.nanoTime() + timeoutNs;
        idle.reset();
        while (true) {
            List<Integer> missing = liveness.unconnected();
            if (missing.isEmpty()) {
                return;
            }
            if (clock.nanoTime() - deadline >= 0) {
                throw liveness.unreachable(missing, timeoutNs);
            }
            idle.idle(0);
        }
    }
}
