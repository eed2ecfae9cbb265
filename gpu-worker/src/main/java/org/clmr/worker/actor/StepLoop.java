package org.clmr.worker.actor;

import org.clmr.data.DataSettings;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointFailed;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.HeldState;
import org.clmr.protocol.cluster.CoordinatorProtocol.Member;
import org.clmr.protocol.cluster.CoordinatorProtocol.PeerTimeout;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.CollectiveTimeoutException;
import org.clmr.worker.collective.Membership;
import org.clmr.worker.collective.OpTag;
import org.clmr.worker.metrics.WorkerMetrics;
import org.clmr.worker.train.PipelineViewSource;
import org.clmr.worker.train.StepListener;
import org.clmr.worker.train.StepReport;
import org.clmr.worker.train.TrainSettings;
import org.clmr.worker.train.TrainingLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A cluster worker's training thread: the only thread that touches the {@link TrainingLoop} (model,
 * optimizer, batches) and the generation's collective (DJL autograd and the collectives are single-thread).
 * It drives the loop with what only a cluster worker has: the coordinator's messages in arrival order
 * ({@link Reconfigure}: a generation, its collective and its starting state, received by broadcast or
 * loaded from a checkpoint; {@link Plan}: steps to run; {@link CheckpointRequest}), the abandoning of a plan
 * when a newer generation arrives ({@link #adopt} sets the generation), and reports for the coordinator
 * ({@link Progress}, {@link CheckpointWritten}, {@link CheckpointFailed}, {@link PeerTimeout}). The worker
 * actor hands it messages through a bounded queue and gets {@link Outcome}s back through a callback that
 * tells the actor; the thread never calls an actor.
 */
public final class StepLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StepLoop.class);
    private static final int QUEUE = 64;

    /** What the training thread reports back, told to the worker actor. */
    public sealed interface Outcome {
    }

    /** The generation's collective is up and the state holds {@code step}. */
    public record Adopted(long generation, long step, String fingerprint) implements Outcome {
    }

    /** A message for the coordinator: {@link Progress}, {@link CheckpointWritten}, {@link CheckpointFailed} or {@link PeerTimeout}. */
    public record Report(ToCoordinator message) implements Outcome {
    }

    /** The plan's last step is done (or the plan was a duplicate of steps already done). */
    public record PlanDone(long generation, long step) implements Outcome {
    }

    /** This worker cannot go on in the generation (a fault of its own or of its peers); it should leave. */
    public record Failed(long generation, String reason) implements Outcome {
    }

    /**
     * The process's Aeron client closed itself (a starved host) and failed the generation; the transport opens a
     * new one at the next join, so this worker should leave the generation and register again, not stop.
     */
    public record Rejoin(long generation, String reason) implements Outcome {
    }

    private final BlockingQueue<Task> queue = new ArrayBlockingQueue<>(QUEUE);
    private final String workerId;
    private final AeronTransport transport;
    private final CheckpointStore store;
    private final Path datasetDir;
    private final DataSettings dataSettings;
    private final TrainSettings trainSettings;
    private final Consumer<Outcome> out;
    private final Thread thread;
    private volatile long abandonBefore = -1;
    private volatile boolean closing;
    private volatile HeldState held;
    private volatile WorkerMetrics metrics = WorkerMetrics.standalone();

    private RunSpec spec;
    private String runId;
    private PipelineViewSource source;
    private TrainingLoop training;
    private Collective collective;
    private long generation = -1;

    /** A coordinator message for the training thread, with the rank a {@link Reconfigure} gives this worker. */
    private record Task(ToWorker message, int rank) {
    }

    /**
     * Starts the training thread.
     *
     * @param workerId the id this worker registers with (its reports carry it)
     * @param store    where checkpoints are written and read (the coordinator's, handed over the cluster)
     * @param out      receives every outcome (on the training thread; it must only enqueue, e.g. tell an actor)
     */
    public StepLoop(String workerId, AeronTransport transport, CheckpointStore store, Path datasetDir,
                    DataSettings dataSettings, TrainSettings trainSettings, Consumer<Outcome> out) {
        this.workerId = workerId;
        this.transport = transport;
        this.store = java.util.Objects.requireNonNull(store, "store");
        this.datasetDir = datasetDir;
        this.dataSettings = dataSettings;
        this.trainSettings = trainSettings;
        this.out = out;
        this.thread = new Thread(this::loop, "clmr-step");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /**
     * The training state this worker holds (run, step, weights fingerprint), or null before its first step;
     * read by the worker actor when it registers (any thread).
     */
    public HeldState held() {
        return held;
    }

    /** Publishes the state the training thread now holds (training thread only). */
    private void publishHeld(String fingerprint) {
        held = training != null && training.completed() > 0
                ? new HeldState(runId, spec.hash(), training.completed(), fingerprint) : null;
    }

    /** Reports generations, steps and data errors to {@code m} from now on. */
    public void reportTo(WorkerMetrics m) {
        this.metrics = m;
    }

    /**
     * Hands a new generation to the training thread, as rank {@code rank}; a plan of an older generation
     * stops before its next step. False when the queue is full (the caller reports it). Actor thread.
     */
    public boolean adopt(Reconfigure reconfigure, int rank) {
        abandonBefore = reconfigure.generation();
        return queue.offer(new Task(reconfigure, rank));
    }

    /** Hands a plan to the training thread; false when the queue is full. Actor thread. */
    public boolean train(Plan plan) {
        return queue.offer(new Task(plan, -1));
    }

    /** Hands a checkpoint request (rank 0) to the training thread; false when the queue is full. Actor thread. */
    public boolean checkpoint(CheckpointRequest request) {
        return queue.offer(new Task(request, -1));
    }

    private void loop() {
        TrainingLoop.useThreads(trainSettings.threads());
        while (!closing) {
            Task t;
            try {
                t = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (t == null) {
                continue;
            }
            try {
                handle(t);
            } catch (RuntimeException e) {
                LOG.error("training thread: {} failed", t.message(), e);
                out.accept(failed(generation, e instanceof UserError ? e.getMessage() : e.toString()));
            }
        }
        release();
    }

    private void handle(Task t) {
        if (t.message() instanceof Reconfigure r) {
            adoptGeneration(r, t.rank());
        } else if (t.message() instanceof Plan p) {
            runPlan(p);
        } else if (t.message() instanceof CheckpointRequest c) {
            writeCheckpoint(c);
        }
    }

    // ------------------------------------------------------------------ generations

    private void adoptGeneration(Reconfigure r, int rank) {
        ResumePoint resume = r.resume();
        closeCollective();
        try {
            openRun(r);
            if (resume.checkpoint() != null) {
                load(resume.checkpoint());
            } else if (resume.broadcastRank() < 0 && (training == null || training.completed() != 0)) {
                freshState();
            }
            List<String> endpoints = new ArrayList<>();
            int[] shares = new int[r.members().size()];
            for (Member m : r.members()) {
                endpoints.add(m.aeronEndpoint());
                shares[m.rank()] = m.share();
            }
            collective = transport.join(new Membership(Membership.runKey(r.runId()), r.generation(), rank, endpoints,
                    r.frameKey()));
            if (resume.checkpoint() == null && resume.broadcastRank() >= 0) {
                receiveState(r.generation(), resume, rank);
            }
            training.join(collective, r.generation(), shares);
            generation = r.generation();
            metrics.generation(generation, rank, endpoints.size(), shares[rank]);
            LOG.info("generation {}: rank {} of {}, shares {}, at step {} ({})", generation, rank, endpoints.size(),
                    Arrays.toString(shares), training.completed(), resume.describe());
            String fingerprint = training.fingerprint();
            publishHeld(fingerprint);
            out.accept(new Adopted(generation, training.completed(), fingerprint));
        } catch (CollectiveTimeoutException e) {
            publishHeld(training != null ? training.fingerprint() : null);
            peersSilent(r.generation(), e);
        } catch (RuntimeException e) {
            publishHeld(training != null ? training.fingerprint() : null);
            LOG.error("cannot adopt generation {}: {}", r.generation(), e.getMessage());
            out.accept(failed(r.generation(), e.getMessage()));
        }
    }

    /** A failure of generation {@code gen}: a {@link Rejoin} when it came from a client that closed itself. */
    private Outcome failed(long gen, String reason) {
        if (transport != null && transport.clientLost()) {
            closeCollective();
            return new Rejoin(gen, "the Aeron client closed itself (" + reason + ")");
        }
        return new Failed(gen, reason);
    }

    /**
     * State transfer: the broadcasting member sends its whole state (weights, Adam moments, batch-norm
     * statistics, step, skipped steps) as a checkpoint payload over the new generation's collective, and
     * every member, a joiner without state included, adopts it. Tagged one step before the resume step, so
     * it precedes the generation's first step.
     */
    private void receiveState(long gen, ResumePoint resume, int myRank) {
        byte[] mine = null;
        if (myRank == resume.broadcastRank()) {
            if (training == null) {
                throw new IllegalStateException("generation " + gen + " names this worker (rank " + myRank
                        + ") to broadcast the state of step " + resume.step() + " but it holds none");
            }
            mine = training.capture().encode();
        }
        byte[] bytes = collective.broadcast(new OpTag(gen, Math.max(0, resume.step() - 1), 0), mine,
                resume.broadcastRank());
        if (myRank != resume.broadcastRank()) {
            CheckpointPayload payload = CheckpointPayload.decode(bytes);
            if (training == null) {
                freshState();
            }
            restoring(() -> training.restore(payload, "rank " + resume.broadcastRank()));
        }
        LOG.info("generation {}: state of step {} {} rank {} ({} bytes)", gen, training.completed(),
                myRank == resume.broadcastRank() ? "broadcast as" : "received from", resume.broadcastRank(), bytes.length);
    }

    /** Opens the run's batches unless this worker already trains the same run and spec. */
    private void openRun(Reconfigure r) {
        if (r.runId().equals(runId) && r.spec().hash().equals(spec.hash())) {
            return;
        }
        releaseState();
        releaseSource();
        runId = null;
        spec = null;
        held = null;
        PipelineViewSource opened = PipelineViewSource.open(datasetDir, r.spec(), dataSettings);
        if (opened.stepsPerEpoch() != r.stepsPerEpoch()) {
            opened.close();
            throw new IllegalStateException("run " + r.runId() + " plans " + r.stepsPerEpoch()
                    + " steps per epoch, but " + datasetDir + " gives " + opened.items() + " tracks / batch "
                    + r.spec().globalBatch() + " = " + opened.stepsPerEpoch()
                    + ": start the run with this dataset's track count (clmr.data concat-songs must match too)");
        }
        source = opened;
        spec = r.spec();
        runId = r.runId();
    }

    /** The run's state at step 0, from its seed. */
    private void freshState() {
        releaseState();
        training = new TrainingLoop(spec, source, trainSettings.maxConsecutiveNonFinite(), trainSettings.djlDevice(),
                new Reporter());
    }

    private void load(CheckpointRecord record) {
        freshState();
        restoring(() -> training.resume(store, record));
        LOG.info("loaded checkpoint of step {} from {}", training.completed(), record.location());
    }

    /** Runs a restore; one that fails may have overwritten part of the state, which is then dropped. */
    private void restoring(Runnable restore) {
        try {
            restore.run();
        } catch (RuntimeException e) {
            releaseState();
            throw e;
        }
    }

    // ------------------------------------------------------------------ steps

    private void runPlan(Plan p) {
        if (p.generation() != generation || collective == null) {
            return;
        }
        try {
            if (training.run(p, () -> abandonBefore > generation || closing)) {
                out.accept(new PlanDone(generation, training.completed()));
            }
        } catch (CollectiveTimeoutException e) {
            LOG.warn("step {} of generation {} abandoned: {}", training.completed() + 1, generation, e.getMessage());
            peersSilent(generation, e);
            closeCollective();
        } catch (RuntimeException e) {
            closeCollective();
            throw e;
        }
    }

    private void peersSilent(long gen, CollectiveTimeoutException e) {
        long step = training != null ? training.completed() : 0;
        LOG.warn("generation {} step {}: silent ranks {} ({})", gen, step, e.silentRanks(), e.getMessage());
        out.accept(new Report(new PeerTimeout(workerId, gen, step, e.silentRanks())));
    }

    /** Turns the loop's step reports into metrics, the held state and progress for the coordinator. */
    private final class Reporter implements StepListener {
        @Override
        public void onStep(StepReport r) {
            metrics.step(r.step(), r.epoch(), r.share(), r.result(), r.wallNs() / 1e9);
            String fingerprint = r.fingerprint();
            publishHeld(fingerprint);
            out.accept(new Report(new Progress(workerId, r.generation(), r.step(), r.epoch(), r.loss(),
                    r.samplesPerSecond(), fingerprint, r.times())));
        }

        @Override
        public void onDataError(RuntimeException error) {
            metrics.dataError();
        }
    }

    // ------------------------------------------------------------------ checkpoints

    private void writeCheckpoint(CheckpointRequest w) {
        if (training == null || training.completed() != w.step()) {
            checkpointFailed(w, "this worker holds step " + (training == null ? 0 : training.completed())
                    + ", not " + w.step());
            return;
        }
        try {
            CheckpointRecord record = training.write(store, runId);
            out.accept(new Report(new CheckpointWritten(workerId, w.generation(), w.checkpointId(), record)));
        } catch (RuntimeException e) {
            checkpointFailed(w, e.toString());
        }
    }

    private void checkpointFailed(CheckpointRequest w, String reason) {
        out.accept(new Report(new CheckpointFailed(workerId, w.generation(), w.checkpointId(), w.step(), reason)));
    }

    // ------------------------------------------------------------------ resources

    private void closeCollective() {
        if (collective != null) {
            try {
                collective.close();
            } catch (RuntimeException e) {
                LOG.warn("closing the collective of generation {}: {}", generation, e.toString());
            }
        }
        collective = null;
        if (training != null) {
            training.leave();
        }
    }

    private void releaseState() {
        if (training != null) {
            training.close();
            training = null;
        }
    }

    private void releaseSource() {
        if (source != null) {
            source.close();
            source = null;
        }
    }

    private void release() {
        closeCollective();
        releaseState();
        releaseSource();
    }

    /** Stops the training thread after its current step (or collective deadline) and frees everything. */
    @Override
    public void close() {
        closing = true;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
