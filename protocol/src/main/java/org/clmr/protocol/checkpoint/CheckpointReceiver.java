package org.clmr.protocol.checkpoint;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import org.clmr.protocol.Sha256;
import org.clmr.protocol.cluster.ControlInput;
import org.clmr.protocol.cluster.CoordinatorProtocol;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointBytes;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointHandoff;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointPart;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointStored;
import org.clmr.protocol.cluster.CoordinatorProtocol.FetchCheckpoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.HandoffRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.HandoffReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PartReceived;

import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;

/**
 * A coordinator node's end of the checkpoint handoff: workers hand checkpoints over in {@link CheckpointPart}s over
 * the cluster's mutually authenticated Artery channel, and this actor assembles each one, checks it against its
 * declared size and SHA-256, and writes it through the node's {@link CheckpointStore} (which reads it back before it
 * answers); workers that resume from a checkpoint fetch its payload part by part ({@link FetchCheckpoint}). Only the
 * coordinator process thus opens its database. Registered with the receptionist under
 * {@link CoordinatorProtocol#CHECKPOINT_HANDOFF_KEY}.
 *
 * <p>What a sender declares is bounded before anything is allocated for it: a payload of at most {@code maxBytes},
 * at most {@code maxTransfers} transfers at a time (one per worker), parts in order and each of the exact size, and
 * memory only for the parts received. A transfer silent for {@code idleTimeout} is dropped. Every refusal answers
 * one line ({@link HandoffRefused}) and drops the transfer. Runs on the actor's thread; the store is called on
 * Akka's blocking dispatcher and its results come back as messages.
 */
public final class CheckpointReceiver extends AbstractBehavior<CheckpointHandoff> {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** Messages of this actor to itself; never sent across the network. */
    private interface Internal extends CheckpointHandoff {
    }

    private record Written(ActorRef<HandoffReply> replyTo, String workerId, CheckpointRecord record, String failure)
            implements Internal {
    }

    private record Loaded(FetchCheckpoint fetch, byte[] payload, String failure) implements Internal {
    }

    private enum Sweep implements Internal {
        INSTANCE
    }

    /** A payload being received from one worker. */
    private static final class Transfer {
        final CheckpointPart first;
        final List<byte[]> parts = new ArrayList<>();
        final MessageDigest digest = Sha256.newDigest();
        long lastNs;

        Transfer(CheckpointPart first, long now) {
            this.first = first;
            this.lastNs = now;
        }

        boolean sameCheckpoint(CheckpointPart p) {
            return p.runId().equals(first.runId()) && p.step() == first.step() && p.sizeBytes() == first.sizeBytes()
                    && p.sha256().equals(first.sha256()) && p.parts() == first.parts();
        }
    }

    private final CheckpointStore store;
    private final long maxBytes;
    private final int maxTransfers;
    private final long idleNs;
    private final Executor blocking;
    private final Map<String, Transfer> transfers = new HashMap<>();
    private String cachedKey;
    private CompletableFuture<byte[]> cached;
    private long cachedUsedNs;

    private CheckpointReceiver(ActorContext<CheckpointHandoff> ctx, CheckpointStore store, long maxBytes,
                               int maxTransfers, Duration idleTimeout) {
        super(ctx);
        this.store = store;
        this.maxBytes = maxBytes;
        this.maxTransfers = maxTransfers;
        this.idleNs = idleTimeout.toNanos();
        this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    }

    /**
     * The receiver, registered with the receptionist.
     *
     * @param store        where checkpoints are written and read (the coordinator node's)
     * @param maxBytes     the largest payload taken
     * @param maxTransfers how many workers may hand a checkpoint over at the same time
     * @param idleTimeout  how long a transfer may stay silent before it is dropped
     */
    public static Behavior<CheckpointHandoff> create(CheckpointStore store, long maxBytes, int maxTransfers,
                                                     Duration idleTimeout) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(CoordinatorProtocol.CHECKPOINT_HANDOFF_KEY,
                    ctx.getSelf()));
            timers.startTimerWithFixedDelay(Sweep.INSTANCE, Sweep.INSTANCE, idleTimeout.dividedBy(2));
            return new CheckpointReceiver(ctx, store, maxBytes, maxTransfers, idleTimeout);
        }));
    }

    @Override
    public Receive<CheckpointHandoff> createReceive() {
        return newReceiveBuilder()
                .onMessage(CheckpointPart.class, this::onPart)
                .onMessage(Written.class, this::onWritten)
                .onMessage(FetchCheckpoint.class, this::onFetch)
                .onMessage(Loaded.class, this::onLoaded)
                .onMessage(Sweep.class, s -> onSweep())
                .build();
    }

    // ------------------------------------------------------------------ workers hand checkpoints over

    private Behavior<CheckpointHandoff> onPart(CheckpointPart p) {
        long now = System.nanoTime();
        String problem = p.index() == 0 ? firstPartProblem(p) : nextPartProblem(p);
        if (problem != null) {
            transfers.remove(p.workerId());
            return refuse(p.replyTo(), "checkpoint part " + p.index() + " of step " + p.step() + " from worker "
                    + printable(p.workerId()) + ": " + problem);
        }
        Transfer t = p.index() == 0 ? new Transfer(p, now) : transfers.get(p.workerId());
        transfers.put(p.workerId(), t);
        t.parts.add(p.bytes());
        t.digest.update(p.bytes());
        t.lastNs = now;
        if (p.index() < p.parts() - 1) {
            p.replyTo().tell(new PartReceived(p.index()));
            return this;
        }
        transfers.remove(p.workerId());
        String sha = HexFormat.of().formatHex(t.digest.digest());
        if (!sha.equals(t.first.sha256())) {
            return refuse(p.replyTo(), "checkpoint of step " + p.step() + " from worker " + printable(p.workerId())
                    + " arrived with SHA-256 " + sha + ", declared " + t.first.sha256() + "; nothing was stored");
        }
        write(t, p.replyTo());
        return this;
    }

    private String firstPartProblem(CheckpointPart p) {
        if (ControlInput.workerIdProblem(p.workerId()).isPresent() || ControlInput.runIdProblem(p.runId()).isPresent()) {
            return "the worker id or run id is not one a clmr node sends";
        }
        if (p.sizeBytes() < 0 || p.sizeBytes() > maxBytes) {
            return "declares " + p.sizeBytes() + " bytes; this coordinator takes 0 to " + maxBytes
                    + " (clmr.coordinator.checkpoint-handoff.max-bytes)";
        }
        if (p.parts() != CheckpointPart.partsOf(p.sizeBytes()) || p.step() < 0 || p.epoch() < 0 || p.generation() < 0
                || p.runSpecHash() == null || p.runSpecHash().length() > 128 || p.sha256() == null
                || !SHA256.matcher(p.sha256()).matches()) {
            return "its header is inconsistent (parts, step, epoch, generation or hashes)";
        }
        if (!transfers.containsKey(p.workerId()) && transfers.size() >= maxTransfers) {
            return maxTransfers + " transfers are under way (clmr.coordinator.checkpoint-handoff.max-transfers);"
                    + " try again later";
        }
        return partSizeProblem(p);
    }

    private String nextPartProblem(CheckpointPart p) {
        Transfer t = transfers.get(p.workerId());
        if (t == null || !t.sameCheckpoint(p)) {
            return "no transfer of this checkpoint is under way from this worker (it must start with part 0)";
        }
        if (p.index() != t.parts.size()) {
            return "part " + t.parts.size() + " was expected next";
        }
        return partSizeProblem(p);
    }

    private static String partSizeProblem(CheckpointPart p) {
        long expected = p.index() < p.parts() - 1 ? CheckpointPart.PART_BYTES
                : p.sizeBytes() - (long) (p.parts() - 1) * CheckpointPart.PART_BYTES;
        if (p.bytes() == null || p.bytes().length != expected || p.index() < 0 || p.index() >= p.parts()) {
            return "holds " + (p.bytes() == null ? 0 : p.bytes().length) + " bytes, " + expected + " expected";
        }
        return null;
    }

    private void write(Transfer t, ActorRef<HandoffReply> replyTo) {
        CheckpointPart h = t.first;
        byte[] payload = new byte[(int) h.sizeBytes()];
        int at = 0;
        for (byte[] part : t.parts) {
            System.arraycopy(part, 0, payload, at, part.length);
            at += part.length;
        }
        t.parts.clear();
        getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> store.write(h.runId(), h.step(), h.epoch(),
                h.generation(), h.runSpecHash(), payload), blocking), (record, err) ->
                new Written(replyTo, h.workerId(), record, err == null ? null : rootMessage(err)));
    }

    private Behavior<CheckpointHandoff> onWritten(Written w) {
        if (w.failure() != null) {
            return refuse(w.replyTo(), "the coordinator's store could not write the checkpoint from worker "
                    + printable(w.workerId()) + ": " + w.failure());
        }
        getContext().getLog().info("checkpoint of step {} handed over by {}: {} bytes stored as {}", w.record().step(),
                w.workerId(), w.record().sizeBytes(), w.record().location());
        w.replyTo().tell(new CheckpointStored(w.record()));
        return this;
    }

    // ------------------------------------------------------------------ workers fetch checkpoints

    private Behavior<CheckpointHandoff> onFetch(FetchCheckpoint f) {
        CheckpointRecord r = f.record();
        if (r == null || ControlInput.runIdProblem(r.runId()).isPresent() || r.sizeBytes() < 0 || r.sizeBytes() > maxBytes
                || r.sha256() == null || f.index() < 0 || f.index() >= CheckpointPart.partsOf(r.sizeBytes())) {
            return refuse(f.replyTo(), "a fetch of a checkpoint part that no stored checkpoint can have");
        }
        String key = r.runId() + "/" + r.step() + "/" + r.sha256();
        if (!key.equals(cachedKey)) {
            // the members of a generation fetch the same checkpoint: it is read from the store once for all of them
            cachedKey = key;
            cached = CompletableFuture.supplyAsync(() -> store.read(r), blocking);
        }
        cachedUsedNs = System.nanoTime();
        getContext().pipeToSelf(cached, (payload, err) -> new Loaded(f, payload, err == null ? null : rootMessage(err)));
        return this;
    }

    private Behavior<CheckpointHandoff> onLoaded(Loaded l) {
        FetchCheckpoint f = l.fetch();
        if (l.failure() != null) {
            if (cached != null && cached.isCompletedExceptionally()) {
                cachedKey = null;
                cached = null;
            }
            return refuse(f.replyTo(), "checkpoint of step " + f.record().step() + " cannot be read: " + l.failure());
        }
        int parts = CheckpointPart.partsOf(l.payload().length);
        if (f.index() >= parts) {
            return refuse(f.replyTo(), "checkpoint of step " + f.record().step() + " has " + parts + " parts");
        }
        int from = f.index() * CheckpointPart.PART_BYTES;
        int to = (int) Math.min(l.payload().length, (long) from + CheckpointPart.PART_BYTES);
        f.replyTo().tell(new CheckpointBytes(f.index(), parts, Arrays.copyOfRange(l.payload(), from, to)));
        return this;
    }

    // ------------------------------------------------------------------ housekeeping

    private Behavior<CheckpointHandoff> onSweep() {
        long now = System.nanoTime();
        transfers.values().removeIf(t -> {
            boolean idle = now - t.lastNs > idleNs;
            if (idle) {
                getContext().getLog().warn("checkpoint transfer of step {} from {} dropped: silent for {} s after {} of"
                        + " {} parts", t.first.step(), t.first.workerId(), idleNs / 1_000_000_000L, t.parts.size(),
                        t.first.parts());
            }
            return idle;
        });
        if (cached != null && cached.isDone() && now - cachedUsedNs > idleNs) {
            cachedKey = null;
            cached = null;
        }
        return this;
    }

    private Behavior<CheckpointHandoff> refuse(ActorRef<HandoffReply> replyTo, String why) {
        getContext().getLog().warn("checkpoint handoff refused: {}", why);
        if (replyTo != null) {
            replyTo.tell(new HandoffRefused(why));
        }
        return this;
    }

    /** The id as a log line may show it: what a clmr node sends, or a placeholder. */
    private static String printable(String workerId) {
        return ControlInput.workerIdProblem(workerId).isEmpty() ? workerId : "(an id with unprintable characters)";
    }

    private static String rootMessage(Throwable t) {
        Throwable e = t;
        while (e.getCause() != null) {
            e = e.getCause();
        }
        return CheckpointCorruptException.oneLine(e.getMessage() == null ? e.toString() : e.getMessage());
    }
}
