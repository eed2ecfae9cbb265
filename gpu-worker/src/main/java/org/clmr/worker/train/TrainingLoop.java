package org.clmr.worker.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.run.RunSpec;
import org.clmr.protocol.run.Shares;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.step.DistributedStep;
import org.clmr.worker.step.ViewPairs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The one training loop: {@code clmr train} ({@link Trainer}) and the training thread of every cluster
 * worker ({@code org.clmr.worker.actor.StepLoop}) drive it. It holds one run's training state (model, Adam,
 * steps completed, steps skipped) and runs {@link Plan}s of steps, each one {@link DistributedStep} over
 * the collective of the world it joined ({@code LocalCollective} for a single process): a plan in, a
 * {@link StepReport} out per step. Everything both drivers share happens here and only here: epoch
 * arithmetic (step s is step {@code s % stepsPerEpoch} of epoch {@code s / stepsPerEpoch}), the batch of a
 * step, skipped-step accounting and the non-finite streak limit, and checkpoints (capture with the
 * {@link ConfigHash}, write and verify, restore, resume). What only one driver has stays with it: the
 * checkpoint schedule, progress lines and retention of a single process; a cluster worker's generations,
 * state broadcast and coordinator reports. Training thread only.
 */
public final class TrainingLoop implements AutoCloseable {
    /** The checkpoint counter of skipped steps (its name predates this class; checkpoints keep it). */
    public static final String SKIPPED_COUNTER = "trainer.skipped_steps";
    private static final Logger LOG = LoggerFactory.getLogger(TrainingLoop.class);

    private final RunSpec spec;
    private final ViewPairSource source;
    private final int maxConsecutiveNonFinite;
    private final StepListener listener;
    private final String configHash;
    private final ClmrNetwork network;
    private final Adam adam;
    private DistributedStep step;
    private long generation;
    private int[] shares;
    private int rank;
    private long completed;
    private long skipped;
    private int consecutiveNonFinite;
    private String lastSkipReason;
    private CheckpointRecord lastCheckpoint;
    private final StateFingerprint fingerprints = new StateFingerprint();

    /**
     * A fresh state at step 0: the model initialised from the run's seed, Adam's moments zero.
     *
     * @param source                  the run's batches (not owned: the caller closes it)
     * @param maxConsecutiveNonFinite skipped steps in a row after which {@link #run} stops with a {@link UserError}
     * @throws UserError when the source's batches do not have the run's shape
     */
    public TrainingLoop(RunSpec spec, ViewPairSource source, int maxConsecutiveNonFinite, Device device,
                        StepListener listener) {
        if (source.cropLength() != spec.cropLength() || source.batchSize() != spec.globalBatch()) {
            throw new UserError("the batch source gives " + source.batchSize() + " x " + source.cropLength()
                    + " samples, the run needs " + spec.globalBatch() + " x " + spec.cropLength()
                    + "; check clmr.run.global-batch and the model preset");
        }
        if (source.stepsPerEpoch() < 1) {
            throw new UserError("the dataset has fewer tracks than one batch of " + spec.globalBatch()
                    + "; lower clmr.run.global-batch");
        }
        this.spec = spec;
        this.source = source;
        this.maxConsecutiveNonFinite = maxConsecutiveNonFinite;
        this.listener = listener;
        this.configHash = ConfigHash.of(spec, source.dataKey());
        this.network = ClmrNetwork.create(spec.model(), spec.seed(), device);
        this.adam = new Adam(spec.optimizer(), network.params());
    }

    /** Loads PyTorch's natives and, when {@code threads > 0}, sets its intra-op threads (the calling JVM's). */
    public static void useThreads(int threads) {
        Engine.getEngine("PyTorch");  // loads the natives before the first JNI call
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
    }

    /**
     * Trains in a world from now on: steps are tagged with {@code generation} and split by {@code shares}
     * (one per rank of {@code collective}, summing to the global batch).
     */
    public void join(Collective collective, long generation, int[] shares) {
        if (shares.length != collective.worldSize() || Shares.total(shares) != spec.globalBatch()) {
            throw new IllegalArgumentException("shares " + Arrays.toString(shares) + " for a world of "
                    + collective.worldSize() + " ranks do not split the global batch of " + spec.globalBatch());
        }
        this.step = new DistributedStep(network, adam, spec.temperature(), collective, generation);
        this.generation = generation;
        this.shares = shares.clone();
        this.rank = collective.rank();
    }

    /** Forgets the world (its collective was closed); {@link #run} needs a new {@link #join} first. */
    public void leave() {
        step = null;
    }

    /**
     * Runs steps until {@code plan.toStep()} are complete, reporting each to the listener.
     *
     * @param abandon asked before every step; true stops the plan there (a newer generation, a shutdown)
     * @return true when the plan's last step is done, false when abandoned
     * @throws UserError                when {@code maxConsecutiveNonFinite} steps in a row were skipped
     * @throws IllegalStateException    when the plan starts past this state's step, or no world was joined
     * @throws RuntimeException         whatever the step threw (a collective's timeout, a data error); the
     *                                  failed step left weights, gradients and statistics as they were
     */
    public boolean run(Plan plan, BooleanSupplier abandon) {
        if (step == null || plan.generation() != generation) {
            throw new IllegalStateException("plan of generation " + plan.generation() + " but this state trains in "
                    + (step == null ? "no generation" : "generation " + generation));
        }
        if (plan.fromStep() > completed) {
            throw new IllegalStateException("plan of generation " + plan.generation() + " starts at step "
                    + plan.fromStep() + " but this state holds step " + completed);
        }
        fingerprints.startPlan(network, completed);
        while (completed < plan.toStep()) {
            if (abandon.getAsBoolean()) {
                return false;
            }
            runStep(plan.toStep());
        }
        return true;
    }

    private void runStep(long planEnd) {
        int epoch = epochOf(completed);
        long k = completed % source.stepsPerEpoch();
        long t0 = System.nanoTime();
        DistributedStep.Result r = step.run(completed, shares, (offset, count) -> load(epoch, k, offset, count));
        long wallNs = System.nanoTime() - t0;
        completed++;
        if (r.applied()) {
            consecutiveNonFinite = 0;
        } else {
            skipped++;
            consecutiveNonFinite++;
            lastSkipReason = r.skipReason();
            LOG.warn("step {} (epoch {}) skipped: {} ({} in a row)", completed, epoch, r.skipReason(),
                    consecutiveNonFinite);
        }
        String fingerprint = completed == planEnd ? fingerprints.weights(network, completed)
                : fingerprints.afterStep(network, completed, r);
        listener.onStep(new StepReport(generation, completed, epoch, shares[rank], r, wallNs, skipped, fingerprint));
        if (consecutiveNonFinite >= maxConsecutiveNonFinite) {
            throw new UserError("training stopped at step " + completed + " (epoch " + epoch + "): "
                    + consecutiveNonFinite + " consecutive steps had a non-finite loss or gradient (last: "
                    + lastSkipReason + "); last good checkpoint: "
                    + (lastCheckpoint == null ? "none" : "step " + lastCheckpoint.step() + " at " + lastCheckpoint.location())
                    + "; check the data or lower clmr.run.optimizer.learning-rate");
        }
    }

    private ViewPairs load(int epoch, long k, int offset, int count) {
        try {
            return source.slice(epoch, k, offset, count);
        } catch (RuntimeException e) {
            listener.onDataError(e);
            throw e;
        }
    }

    /** The epoch of the 0-based global step index {@code globalStep}. */
    public int epochOf(long globalStep) {
        return Math.toIntExact(globalStep / source.stepsPerEpoch());
    }

    /** The epoch of the last completed step (0 before any). */
    public int epoch() {
        return epochOf(Math.max(0, completed - 1));
    }

    // ------------------------------------------------------------------ checkpoints

    /** The whole state now, as a checkpoint payload (also what a state broadcast sends). */
    public CheckpointPayload capture() {
        return TrainingCheckpoint.capture(network, adam, spec, configHash, epoch(), completed,
                Map.of(SKIPPED_COUNTER, skipped));
    }

    /**
     * Writes a checkpoint of the state now; the store verifies it (reads it back) before returning.
     *
     * @return the verified record
     */
    public CheckpointRecord write(CheckpointStore store, String runId) {
        CheckpointPayload payload = capture();
        CheckpointRecord r = store.write(runId, completed, payload.epoch(), generation, spec.hash(), payload.encode());
        lastCheckpoint = r;
        LOG.debug("checkpoint step {} (epoch {}) -> {} ({} bytes, sha256 {})", completed, payload.epoch(),
                r.location(), r.sizeBytes(), r.sha256());
        return r;
    }

    /**
     * Resumes from a stored checkpoint of this run: its record and payload must name this run's RunSpec,
     * and its bytes must match the record's size and SHA-256.
     *
     * @throws CheckpointCorruptException when the checkpoint is refused; the state must then be discarded
     */
    public void resume(CheckpointStore store, CheckpointRecord record) {
        if (!record.runSpecHash().equals(spec.hash())) {
            throw new CheckpointCorruptException("it was trained under RunSpec " + record.runSpecHash()
                    + ", this run's is " + spec.hash());
        }
        restore(CheckpointPayload.decode(store.read(record)), record.location());
        lastCheckpoint = record;
    }

    /**
     * Takes over the state of a payload: weights, running statistics, Adam, steps completed and skipped.
     * A config hash other than this loop's is said (the checkpoint's run saw other batches) but accepted.
     *
     * @param from where the payload came from, for the log
     * @throws CheckpointCorruptException when it names another RunSpec or lacks a tensor; the state must
     *                                    then be discarded
     */
    public void restore(CheckpointPayload payload, String from) {
        if (!payload.runSpecHash().equals(spec.hash())) {
            throw new CheckpointCorruptException("its payload names RunSpec " + payload.runSpecHash()
                    + ", this run's is " + spec.hash());
        }
        if (!payload.configHash().equals(configHash)) {
            LOG.warn("state of step {} from {} has config hash {}, this run's is {}: it was trained on other data"
                    + " (dataset content, clmr.data.pretrain.concat-songs or clmr.worker.train.synthetic-tracks);"
                    + " training goes on from it", payload.step(), from, payload.configHash(), configHash);
        }
        Gradients.zero(network.params());
        fingerprints.invalidate();
        TrainingCheckpoint.restore(payload, network, adam);
        completed = payload.step();
        skipped = payload.counters().getOrDefault(SKIPPED_COUNTER, 0L);
        consecutiveNonFinite = 0;
    }

    // ------------------------------------------------------------------ inspection

    /** The run this state belongs to. */
    public RunSpec spec() {
        return spec;
    }

    /** Steps completed. */
    public long completed() {
        return completed;
    }

    /** Steps of the run skipped so far. */
    public long skipped() {
        return skipped;
    }

    /** Batches per epoch. */
    public long stepsPerEpoch() {
        return source.stepsPerEpoch();
    }

    /** The hash every checkpoint of this state carries ({@link ConfigHash}). */
    public String configHash() {
        return configHash;
    }

    /** The last checkpoint written or resumed from, if any. */
    public Optional<CheckpointRecord> lastCheckpoint() {
        return Optional.ofNullable(lastCheckpoint);
    }

    /** The weights' checksum (equal on every rank after a step), computed once per state. */
    public String fingerprint() {
        return fingerprints.weights(network, completed);
    }

    /** The model (for inspection; do not train it elsewhere). */
    public ClmrNetwork network() {
        return network;
    }

    /** Frees the model and the optimizer's state. */
    @Override
    public void close() {
        adam.close();
        network.close();
    }
}
