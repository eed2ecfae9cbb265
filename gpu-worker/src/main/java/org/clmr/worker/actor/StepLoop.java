package org.clmr.worker.actor;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.data.DataSettings;
import org.clmr.data.augment.AugmentationChain;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.pipeline.Batch;
import org.clmr.data.pipeline.BatchPipeline;
import org.clmr.data.pipeline.BatchRequest;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.cluster.CoordinatorProtocol.HeldState;
import org.clmr.protocol.cluster.CoordinatorProtocol.Member;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.CollectiveTimeoutException;
import org.clmr.worker.collective.Membership;
import org.clmr.worker.metrics.WorkerMetrics;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.step.DistributedStep;
import org.clmr.worker.step.ViewPairs;
import org.clmr.worker.train.TrainingCheckpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The worker's training thread: the only thread that touches the model, the optimizer, the batch
 * pipeline's takes and the generation's collective (DJL autograd and the collectives are single-thread).
 * The worker actor hands it {@link Task}s through a bounded queue ({@link #submit}) and gets
 * {@link Outcome}s back through a callback that tells the actor; the step loop itself never calls an
 * actor, and reads nothing but its own state and the {@link #abandonBefore} generation the actor sets
 * when a newer generation makes a running plan obsolete.
 */
public final class StepLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StepLoop.class);
    private static final int QUEUE = 64;
    private static final int LOOKAHEAD = 2;

    /** Work for the training thread, in arrival order. */
    public sealed interface Task {
    }

    /** Adopt a new generation: build its collective and its starting state. */
    public record Adopt(Reconfigure reconfigure, int rank) implements Task {
    }

    /** Run steps [fromStep, toStep) of a generation. */
    public record RunPlan(long generation, long fromStep, long toStep) implements Task {
    }

    /** Rank 0: write a checkpoint of the state at {@code step}. */
    public record WriteCheckpoint(long generation, long checkpointId, long step) implements Task {
    }

    /** What the training thread reports back, told to the worker actor. */
    public sealed interface Outcome {
    }

    /** The generation's collective is up and the state holds {@code step}. */
    public record Adopted(long generation, long step, String fingerprint) implements Outcome {
    }

    /** A generation could not be adopted (a fault of this worker or its peers). */
    public record AdoptFailed(long generation, String reason) implements Outcome {
    }

    /** One step completed. */
    public record StepDone(long generation, long step, int epoch, double loss, double samplesPerSecond,
                           String fingerprint) implements Outcome {
    }

    /** The plan's last step is done (or the plan was a duplicate of steps already done). */
    public record PlanDone(long generation, long step) implements Outcome {
    }

    /** A collective timed out: these ranks were silent. */
    public record PeersSilent(long generation, long step, List<Integer> silentRanks, String message)
            implements Outcome {
    }

    /** A step failed for another reason; the worker cannot go on in this generation. */
    public record StepFailed(long generation, long step, String reason) implements Outcome {
    }

    /** The checkpoint was written and read back. */
    public record CheckpointDone(long generation, long checkpointId, CheckpointRecord record) implements Outcome {
    }

    /** The checkpoint could not be written. */
    public record CheckpointError(long generation, long checkpointId, long step, String reason) implements Outcome {
    }

    private final BlockingQueue<Task> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AeronTransport transport;
    private final CheckpointStore store;
    private final java.nio.file.Path datasetDir;
    private final DataSettings dataSettings;
    private final ai.djl.Device device;
    private final int threads;
    private final Consumer<Outcome> out;
    private final Thread thread;
    private volatile long abandonBefore = -1;
    private volatile boolean closing;
    private volatile HeldState held;
    private volatile WorkerMetrics metrics = WorkerMetrics.standalone();

    private RunSpec spec;
    private String runId;
    private PackedDataset dataset;
    private BatchPipeline pipeline;
    private int items;
    private ClmrNetwork network;
    private Adam adam;
    private Collective collective;
    private DistributedStep step;
    private long generation = -1;
    private int[] shares;
    private long stepsPerEpoch;
    private long completed;
    private boolean holdsState;

    /**
     * Starts the training thread.
     *
     * @param store where checkpoints are written and read, or null when none is configured
     * @param out   receives every outcome (on the training thread; it must only enqueue, e.g. tell an actor)
     */
    public StepLoop(AeronTransport transport, CheckpointStore store, java.nio.file.Path datasetDir,
                    DataSettings dataSettings, ai.djl.Device device, int threads, Consumer<Outcome> out) {
        this.transport = transport;
        this.store = store;
        this.datasetDir = datasetDir;
        this.dataSettings = dataSettings;
        this.device = device;
        this.threads = threads;
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
        held = holdsState && completed > 0 ? new HeldState(runId, spec.hash(), completed, fingerprint) : null;
    }

    /** Reports generations, steps and data errors to {@code m} from now on. */
    public void reportTo(WorkerMetrics m) {
        this.metrics = m;
    }

    /** Hands a task to the training thread; false when the queue is full (the caller reports it). */
    public boolean submit(Task task) {
        if (task instanceof Adopt a) {
            abandonBefore = a.reconfigure().generation();
        }
        return queue.offer(task);
    }

    private void loop() {
        Engine.getEngine("PyTorch");  // loads the natives before the first JNI call
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
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
                LOG.error("training thread: {} failed", t, e);
                out.accept(new StepFailed(generation, completed, e.toString()));
            }
        }
        release();
    }

    private void handle(Task t) {
        if (t instanceof Adopt a) {
            adopt(a.reconfigure(), a.rank());
        } else if (t instanceof RunPlan p) {
            runPlan(p);
        } else if (t instanceof WriteCheckpoint w) {
            checkpoint(w);
        }
    }

    // ------------------------------------------------------------------ generations

    private void adopt(Reconfigure r, int rank) {
        closeCollective();
        try {
            openRun(r);
            ResumePoint resume = r.resume();
            if (resume.checkpoint() != null) {
                load(resume.checkpoint());
            } else if (resume.broadcastRank() < 0 && (!holdsState || completed != 0)) {
                freshModel();
            }
            List<String> endpoints = new ArrayList<>();
            shares = new int[r.members().size()];
            for (Member m : r.members()) {
                endpoints.add(m.aeronEndpoint());
                shares[m.rank()] = m.share();
            }
            stepsPerEpoch = r.stepsPerEpoch();
            collective = transport.join(new Membership(runKey(r.runId()), r.generation(), rank, endpoints));
            if (resume.checkpoint() == null && resume.broadcastRank() >= 0) {
                receiveState(r.generation(), resume, rank);
            }
            step = new DistributedStep(network, adam, spec.temperature(), collective, r.generation());
            generation = r.generation();
            metrics.generation(generation, rank, endpoints.size(), shares[rank]);
            LOG.info("generation {}: rank {} of {}, shares {}, at step {} ({})", generation, rank, endpoints.size(),
                    java.util.Arrays.toString(shares), completed, resume.describe());
            String fingerprint = network.fingerprint();
            publishHeld(fingerprint);
            out.accept(new Adopted(generation, completed, fingerprint));
        } catch (CollectiveTimeoutException e) {
            publishHeld(holdsState ? network.fingerprint() : null);
            out.accept(new PeersSilent(r.generation(), completed, e.silentRanks(), e.getMessage()));
        } catch (RuntimeException e) {
            publishHeld(holdsState ? network.fingerprint() : null);
            LOG.error("cannot adopt generation {}: {}", r.generation(), e.getMessage());
            out.accept(new AdoptFailed(r.generation(), e.getMessage()));
        }
    }

    /**
     * State transfer: the broadcasting member sends its whole state (weights, Adam moments, batch-norm
     * statistics, step) as a checkpoint payload over the new generation's collective, and every member,
     * a joiner without state included, adopts it. Tagged one step before the resume step, so it precedes
     * the generation's first step.
     */
    private void receiveState(long gen, ResumePoint resume, int myRank) {
        byte[] mine = null;
        if (myRank == resume.broadcastRank()) {
            if (!holdsState) {
                throw new IllegalStateException("generation " + gen + " names this worker (rank " + myRank
                        + ") to broadcast the state of step " + resume.step() + " but it holds none");
            }
            int epoch = epochOf(Math.max(0, completed - 1));
            mine = TrainingCheckpoint.capture(network, adam, spec, spec.hash(), epoch, completed, Map.of()).encode();
        }
        byte[] bytes = collective.broadcast(new org.clmr.worker.collective.OpTag(gen, Math.max(0, resume.step() - 1), 0),
                mine, resume.broadcastRank());
        if (myRank != resume.broadcastRank()) {
            CheckpointPayload payload = CheckpointPayload.decode(bytes);
            if (!holdsState) {
                freshModel();
            }
            Gradients.zero(network.params());
            TrainingCheckpoint.restore(payload, network, adam);
            completed = payload.step();
        }
        LOG.info("generation {}: state of step {} {} rank {} ({} bytes)", gen, completed,
                myRank == resume.broadcastRank() ? "broadcast as" : "received from", resume.broadcastRank(), bytes.length);
    }

    /** Aeron frames carry the run as a number: a stable 64-bit key of the run's name. */
    static long runKey(String runId) {
        byte[] name = runId.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] h = org.clmr.protocol.Sha256.digest(name, 0, name.length);
        return java.nio.ByteBuffer.wrap(h).getLong() & Long.MAX_VALUE;
    }

    private void openRun(Reconfigure r) {
        if (r.runId().equals(runId) && r.spec().hash().equals(spec.hash())) {
            return;
        }
        releaseModel();
        releaseData();
        spec = r.spec();
        runId = r.runId();
        dataset = PackedDataset.open(datasetDir, spec.sampleRate());
        PretrainView view = PretrainView.of(dataset, dataSettings.concatSongs());
        items = view.size();
        if (items / spec.globalBatch() != r.stepsPerEpoch()) {
            throw new IllegalStateException("run " + r.runId() + " plans " + r.stepsPerEpoch()
                    + " steps per epoch, but " + datasetDir + " gives " + items + " tracks / batch "
                    + spec.globalBatch() + " = " + items / spec.globalBatch()
                    + ": start the run with this dataset's track count (clmr.data concat-songs must match too)");
        }
        pipeline = BatchPipeline.forRun(view, spec, AugmentationChain.from(spec.augment()), dataSettings);
        holdsState = false;
        completed = 0;
        held = null;
    }

    private void freshModel() {
        releaseModel();
        network = ClmrNetwork.create(spec.model(), spec.seed(), device);
        adam = new Adam(spec.optimizer(), network.params());
        completed = 0;
        holdsState = true;
    }

    private void load(CheckpointRecord record) {
        if (store == null) {
            throw new IllegalStateException("generation resumes from " + record.location()
                    + " but no checkpoint store is configured: set clmr.worker.cluster.checkpoint.url");
        }
        CheckpointPayload payload = CheckpointPayload.decode(store.read(record));
        if (!payload.runSpecHash().equals(spec.hash())) {
            throw new IllegalStateException("checkpoint " + record.location() + " is of RunSpec "
                    + payload.runSpecHash() + ", the run's is " + spec.hash());
        }
        freshModel();
        TrainingCheckpoint.restore(payload, network, adam);
        completed = payload.step();
        LOG.info("loaded checkpoint of step {} from {}", completed, record.location());
    }

    // ------------------------------------------------------------------ steps

    private void runPlan(RunPlan p) {
        if (p.generation() != generation || collective == null) {
            return;
        }
        if (p.fromStep() > completed) {
            out.accept(new StepFailed(generation, completed, "plan of generation " + p.generation() + " starts at step "
                    + p.fromStep() + " but this worker holds step " + completed));
            return;
        }
        DistributedStep.ShareLoader loader = metrics.countingDataErrors(this::load);
        while (completed < p.toStep()) {
            if (abandonBefore > generation || closing) {
                return;
            }
            long t0 = System.nanoTime();
            DistributedStep.Result r;
            try {
                // a failed step leaves weights, gradients and running statistics as before it
                r = step.run(completed, shares, loader);
            } catch (CollectiveTimeoutException e) {
                LOG.warn("step {} of generation {} abandoned: {}", completed + 1, generation, e.getMessage());
                out.accept(new PeersSilent(generation, completed, e.silentRanks(), e.getMessage()));
                closeCollective();
                return;
            } catch (RuntimeException e) {
                closeCollective();
                throw e;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            int epoch = epochOf(completed);
            completed++;
            metrics.step(completed, epoch, shares[collective.rank()], r, seconds);
            if (!r.applied()) {
                LOG.warn("step {} skipped: {}", completed, r.skipReason());
            }
            String fingerprint = network.fingerprint();
            publishHeld(fingerprint);
            out.accept(new StepDone(generation, completed, epoch, r.loss(),
                    shares[collective.rank()] / Math.max(seconds, 1e-9), fingerprint));
        }
        out.accept(new PlanDone(generation, completed));
    }

    private int epochOf(long globalStep) {
        return Math.toIntExact(globalStep / stepsPerEpoch);
    }

    /** This rank's slice of the global batch of step {@code completed}, prefetching its next steps. */
    private ViewPairs load(int offset, int count) {
        int epoch = epochOf(completed);
        int k = Math.toIntExact(completed % stepsPerEpoch);
        List<BatchRequest> upcoming = new ArrayList<>(LOOKAHEAD);
        long s = completed;
        for (int i = 0; i < LOOKAHEAD; i++) {
            s++;
            upcoming.add(new BatchRequest(epochOf(s), Math.toIntExact(s % stepsPerEpoch), offset, count));
        }
        Batch b = pipeline.take(new BatchRequest(epoch, k, offset, count), upcoming);
        return new ViewPairs(count, spec.cropLength(), b.view0(), b.view1());
    }

    // ------------------------------------------------------------------ checkpoints

    private void checkpoint(WriteCheckpoint w) {
        if (store == null) {
            out.accept(new CheckpointError(w.generation(), w.checkpointId(), w.step(),
                    "no checkpoint store is configured on this worker: set clmr.worker.cluster.checkpoint.url"
                            + " to the coordinator's database"));
            return;
        }
        if (!holdsState || completed != w.step()) {
            out.accept(new CheckpointError(w.generation(), w.checkpointId(), w.step(),
                    "this worker holds step " + completed + ", not " + w.step()));
            return;
        }
        try {
            int epoch = epochOf(Math.max(0, completed - 1));
            CheckpointPayload payload = TrainingCheckpoint.capture(network, adam, spec, spec.hash(), epoch, completed,
                    Map.of());
            CheckpointRecord record = store.write(runId, completed, epoch, w.generation(), spec.hash(),
                    payload.encode());
            out.accept(new CheckpointDone(w.generation(), w.checkpointId(), record));
        } catch (RuntimeException e) {
            out.accept(new CheckpointError(w.generation(), w.checkpointId(), w.step(), e.toString()));
        }
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
        step = null;
    }

    private void releaseModel() {
        if (adam != null) {
            adam.close();
            adam = null;
        }
        if (network != null) {
            network.close();
            network = null;
        }
        holdsState = false;
    }

    private void releaseData() {
        if (pipeline != null) {
            pipeline.close();
            pipeline = null;
        }
        if (dataset != null) {
            dataset.close();
            dataset = null;
        }
    }

    private void release() {
        closeCollective();
        releaseModel();
        releaseData();
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
