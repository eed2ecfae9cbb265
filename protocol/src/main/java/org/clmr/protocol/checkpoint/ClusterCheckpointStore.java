package org.clmr.protocol.checkpoint;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.receptionist.Receptionist;
import org.clmr.protocol.Sha256;
import org.clmr.protocol.cluster.CoordinatorProtocol;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointBytes;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointHandoff;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointPart;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointStored;
import org.clmr.protocol.cluster.CoordinatorProtocol.FetchCheckpoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.HandoffRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.HandoffReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PartReceived;

import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A worker's view of the coordinator's checkpoint store: a {@link #write} hands the payload to a coordinator node's
 * {@link CheckpointReceiver} in {@link CheckpointPart}s over the cluster (mutually authenticated Artery), which
 * stores and verifies it and answers with its record; a {@link #read} fetches a stored payload part by part and
 * checks it against the record's size and SHA-256. The worker needs no database connection and no credentials of
 * the coordinator's database. Listing and deleting stay with the coordinator. Blocking: called on the training
 * thread (one part at a time, each answered within the timeout); thread-safe.
 */
public final class ClusterCheckpointStore implements CheckpointStore {
    /** The largest payload a Java array holds. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final Supplier<ActorSystem<?>> system;
    private final String workerId;
    /** The longest wait for the receptionist to list a coordinator node's receiver. */
    private static final Duration LISTING_WAIT = Duration.ofSeconds(10);
    private final Duration timeout;

    /**
     * @param system   the worker's current cluster node (it may be replaced while the worker lives)
     * @param workerId the worker's id (the receiver runs one transfer per worker)
     * @param timeout  how long each part (and the final store) may take to be answered
     */
    public ClusterCheckpointStore(Supplier<ActorSystem<?>> system, String workerId, Duration timeout) {
        this.system = system;
        this.workerId = workerId;
        this.timeout = timeout;
    }

    @Override
    public CheckpointRecord write(String runId, long step, int epoch, long generation, String runSpecHash,
                                  byte[] payload) {
        ActorRef<CheckpointHandoff> receiver = receiver();
        String sha = Sha256.hex(payload);
        int parts = CheckpointPart.partsOf(payload.length);
        for (int i = 0; i < parts; i++) {
            int index = i;
            int from = i * CheckpointPart.PART_BYTES;
            byte[] bytes = Arrays.copyOfRange(payload, from, Math.min(payload.length, from + CheckpointPart.PART_BYTES));
            HandoffReply reply = ask(receiver, r -> new CheckpointPart(workerId, runId, step, epoch, generation,
                    runSpecHash, payload.length, sha, index, parts, bytes, r), "part " + i + " of " + parts
                    + " of the checkpoint of step " + step);
            if (reply instanceof CheckpointStored stored && index == parts - 1) {
                CheckpointRecord record = stored.record();
                if (record.sizeBytes() != payload.length || !record.sha256().equals(sha) || record.step() != step) {
                    throw new CheckpointCorruptException("the coordinator stored checkpoint " + record.location() + " as "
                            + record.sizeBytes() + " bytes sha256=" + record.sha256() + " of step " + record.step()
                            + ", handed over " + payload.length + " bytes sha256=" + sha + " of step " + step);
                }
                return record;
            }
            if (!(reply instanceof PartReceived received && received.index() == index && index < parts - 1)) {
                throw refused(reply, "the checkpoint of step " + step);
            }
        }
        throw new IllegalStateException("unreachable: the last part's answer returns or throws");
    }

    @Override
    public byte[] read(CheckpointRecord record) {
        if (record.sizeBytes() < 0 || record.sizeBytes() > MAX_ARRAY) {
            throw new CheckpointCorruptException("checkpoint " + record.location() + " declares " + record.sizeBytes()
                    + " bytes, more than a worker can hold");
        }
        ActorRef<CheckpointHandoff> receiver = receiver();
        byte[] payload = new byte[(int) record.sizeBytes()];
        int parts = CheckpointPart.partsOf(payload.length);
        for (int i = 0; i < parts; i++) {
            int index = i;
            HandoffReply reply = ask(receiver, r -> new FetchCheckpoint(record, index, r), "part " + i + " of " + parts
                    + " of checkpoint " + record.location());
            int from = i * CheckpointPart.PART_BYTES;
            int length = Math.min(CheckpointPart.PART_BYTES, payload.length - from);
            if (!(reply instanceof CheckpointBytes b) || b.index() != index || b.parts() != parts
                    || b.bytes().length != length) {
                throw refused(reply, "checkpoint " + record.location());
            }
            System.arraycopy(b.bytes(), 0, payload, from, length);
        }
        String sha = Sha256.hex(payload);
        if (!sha.equals(record.sha256())) {
            throw new CheckpointCorruptException("checkpoint " + record.location() + " arrived with sha256=" + sha
                    + ", its record says " + record.sha256() + "; it cannot be a resume point");
        }
        return payload;
    }

    /** Not offered to workers: the coordinator lists its checkpoints. */
    @Override
    public List<CheckpointRecord> list(String runId) {
        throw new UnsupportedOperationException("a worker writes and reads checkpoints through the coordinator; listing"
                + " them is the coordinator's (`clmr status`)");
    }

    /** Not offered to workers: the coordinator applies the run's retention. */
    @Override
    public void delete(CheckpointRecord record) {
        throw new UnsupportedOperationException("a worker writes and reads checkpoints through the coordinator;"
                + " deleting them is the coordinator's");
    }

    /** Not offered to workers: the coordinator archives a run's checkpoints when an operator starts it afresh. */
    @Override
    public int rename(String runId, String newRunId) {
        throw new UnsupportedOperationException("a worker writes and reads checkpoints through the coordinator;"
                + " archiving them is the coordinator's");
    }

    /** A coordinator node's receiver, as this node's receptionist knows them (the lowest address when several). */
    private ActorRef<CheckpointHandoff> receiver() {
        ActorSystem<?> sys = system.get();
        // the receptionist's listing reaches a node that just joined a moment after it joined: wait for it a while,
        // but not for long when no coordinator node is up (the checkpoint is asked for again)
        long deadline = System.nanoTime() + Math.min(timeout.toNanos(), LISTING_WAIT.toNanos());
        while (true) {
            Receptionist.Listing listing = await(AskPattern.ask(sys.receptionist(),
                    (ActorRef<Receptionist.Listing> r) -> Receptionist.find(CoordinatorProtocol.CHECKPOINT_HANDOFF_KEY, r),
                    timeout, sys.scheduler()), "the receptionist's list of coordinator nodes");
            var receiver = listing.getServiceInstances(CoordinatorProtocol.CHECKPOINT_HANDOFF_KEY).stream()
                    .min(Comparator.comparing(ref -> ref.path().toString()));
            if (receiver.isPresent()) {
                return receiver.get();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no coordinator node of this cluster takes checkpoints (none is a member"
                        + " right now); the checkpoint is asked for again at the next checkpoint step");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while looking for the coordinator's checkpoint receiver", e);
            }
        }
    }

    private HandoffReply ask(ActorRef<CheckpointHandoff> receiver, Function<ActorRef<HandoffReply>, CheckpointHandoff> m,
                             String what) {
        ActorSystem<?> sys = system.get();
        return await(AskPattern.ask(receiver, m::apply, timeout, sys.scheduler()), what);
    }

    private <T> T await(java.util.concurrent.CompletionStage<T> answer, String what) {
        try {
            return answer.toCompletableFuture().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + what);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the coordinator did not answer " + what + " within " + timeout.toSeconds()
                    + " s (clmr.worker.cluster.checkpoint.timeout)");
        }
    }

    private static RuntimeException refused(HandoffReply reply, String what) {
        if (reply instanceof HandoffRefused r) {
            return new IllegalStateException("the coordinator refused " + what + ": " + r.message());
        }
        return new IllegalStateException("the coordinator answered " + what + " out of turn ("
                + (reply == null ? "nothing" : reply.getClass().getSimpleName()) + ")");
    }
}
