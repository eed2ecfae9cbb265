/**
 * Collective operations among the ranks of one membership generation (all-reduce, all-gather,
 * reduce-scatter, broadcast), free of Akka and DJL.
 *
 * <ul>
 *   <li>{@link org.clmr.worker.collective.Collective}: the contract. {@link org.clmr.worker.collective.LocalCollective}
 *       is a world of one; {@link org.clmr.worker.collective.InProcessCollective} runs ranks as threads of one
 *       JVM (tests, benchmarks).</li>
 *   <li>{@link org.clmr.worker.collective.AeronTransport}: one process's Aeron (media driver, client, clock,
 *       counters); {@code join(Membership)} opens a generation's {@link org.clmr.worker.collective.AeronCollective}.</li>
 *   <li>{@code AeronCollective}: the public operations, i.e. what each phase sends to and receives from each
 *       peer; {@code RankOrderSum}: the staging arrays and the sums in rank order that make every rank's
 *       result the same bits.</li>
 *   <li>{@code PhaseDriver}: the duty cycle that moves frames (an Agrona agent) and drives a phase to its end;
 *       {@code Liveness}: the deadlines, lost peers, and the one line an operation fails with.</li>
 *   <li>{@code PeerLink}: one peer's publication, subscription, send and receive regions ({@code ChunkRegion})
 *       and connection state; it signs every frame it sends with the generation's MAC
 *       ({@code org.clmr.protocol.wire.FrameMac}, key from the {@link org.clmr.worker.collective.Membership});
 *       {@code FrameTriage} and {@code FrameVerdict}: the one place where a received frame is judged (accepted,
 *       left for later, or dropped and counted by reason). No frame fails an operation or ends the process,
 *       whoever sent it: only the operation's deadline or a lost peer does.</li>
 * </ul>
 *
 * <p>Threads. One thread at a time runs a collective's operations and closes it. During a distributed step
 * that is the step's {@link org.clmr.worker.collective.CommThread}, which owns the collective alone and takes
 * its work from one bounded queue (the training thread waits for batch-norm exchanges and leaves gradient
 * buckets, cut by {@link org.clmr.worker.collective.BucketLayout}, running behind the backward pass);
 * between steps (state transfer) it is the training thread. Aeron's client thread calls a peer link's image
 * callbacks, which only set volatile flags. An embedded media driver's duty cycle runs on the operation's
 * thread during a phase and on a keeper thread otherwise ({@code DriverDuty}, a lock between them).
 * {@code CollectiveMetrics} may be read from any thread.
 *
 * <p>Time. Deadlines are read from the transport's (or the in-process group's) {@code NanoClock}: the
 * system clock in production, a hand-advanced clock in tests, which therefore never sleep to reach one.
 */
package org.clmr.worker.collective;
