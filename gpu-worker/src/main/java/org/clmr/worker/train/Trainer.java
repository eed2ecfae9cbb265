package org.clmr.worker.train;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.checkpoint.RetentionPolicy;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.collective.LocalCollective;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.step.DistributedStep;
import org.clmr.worker.step.ViewPairs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Single-process CLMR training: resumes from the run's newest checkpoint when there is one, then runs
 * steps (data -> {@link DistributedStep} in a world of one -> report) until a target step, writing checkpoints as the run's
 * {@link org.clmr.protocol.run.CheckpointPolicy} says and pruning old ones. A step's batch depends only on
 * (seed, epoch, step), so a resumed run repeats the uninterrupted run's losses and weights exactly (CPU).
 * A step with a non-finite loss or gradient is skipped (weights untouched) and counted; too many in a row
 * stop the run with a {@link UserError}. Runs on the calling thread, which owns the JVM's gradient
 * collector while a step runs.
 */
public final class Trainer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
    private static final String SKIPPED = "trainer.skipped_steps";

    private final RunSpec spec;
    private final TrainSettings settings;
    private final ViewPairSource source;
    private final CheckpointStore store;
    private final String runId;
    private final String configHash;
    private final TrainListener listener;
    private final ClmrNetwork network;
    private final Adam adam;
    private final DistributedStep step;
    private long completed;
    private long skipped;
    private CheckpointRecord lastCheckpoint;

    /** What one step did. */
    public record StepReport(long step, int epoch, double loss, boolean applied, String skipReason, long dataNs,
                             long computeNs) {
    }

    /**
     * A progress line's figures.
     *
     * @param samplesPerSecond tracks (view pairs) per second over the interval
     * @param dataWaitShare    fraction of the interval spent waiting for batches
     */
    public record IntervalReport(int epoch, long step, long targetSteps, double meanLoss, double samplesPerSecond,
                                 double dataWaitShare, long skipped) {
    }

    /** The end of a {@link #run}. */
    public record Summary(long steps, int epoch, long skipped, String fingerprint, List<Double> losses,
                          CheckpointRecord lastCheckpoint) {
    }

    public Trainer(RunSpec spec, TrainSettings settings, ViewPairSource source, CheckpointStore store, String runId,
                   String configHash, TrainListener listener) {
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
        this.settings = settings;
        this.source = source;
        this.store = store;
        this.runId = runId;
        this.configHash = configHash;
        this.listener = listener;
        if (settings.threads() > 0) {
            Engine.getEngine("PyTorch");  // loads the natives before the first JNI call
            JniUtils.setNumThreads(settings.threads());
        }
        this.network = ClmrNetwork.create(spec.model(), spec.seed(), settings.djlDevice());
        this.adam = new Adam(spec.optimizer(), network.params());
        // the distributed step in a world of one: the same code as every worker of a cluster runs
        this.step = new DistributedStep(network, adam, spec.temperature(), new LocalCollective(0), 0);
        try {
            resume();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Steps completed so far (after a resume: the checkpoint's step). */
    public long completedSteps() {
        return completed;
    }

    /** The last checkpoint written or resumed from, if any. */
    public Optional<CheckpointRecord> lastCheckpoint() {
        return Optional.ofNullable(lastCheckpoint);
    }

    /** The model (for inspection; do not train it elsewhere). */
    public ClmrNetwork network() {
        return network;
    }

    /** Total steps of the run's epochs. */
    public long stepsForEpochs() {
        return spec.epochs() * source.stepsPerEpoch();
    }

    private int epochOf(long globalStep) {
        return Math.toIntExact(globalStep / source.stepsPerEpoch());
    }

    private void resume() {
        Optional<CheckpointRecord> latest = store.latest(runId);
        if (latest.isEmpty()) {
            return;
        }
        CheckpointRecord r = latest.get();
        if (!r.runSpecHash().equals(spec.hash())) {
            throw new UserError("checkpoint " + r.location() + " was trained under RunSpec " + r.runSpecHash()
                    + ", this run's is " + spec.hash() + "; use the same configuration or another --run-dir");
        }
        CheckpointPayload payload;
        try {
            payload = CheckpointPayload.decode(store.read(r));
            if (!payload.runSpecHash().equals(spec.hash())) {
                throw new CheckpointCorruptException("its payload names RunSpec " + payload.runSpecHash()
                        + ", its record " + r.runSpecHash());
            }
            TrainingCheckpoint.restore(payload, network, adam);
        } catch (CheckpointCorruptException e) {
            throw new UserError("checkpoint " + r.location() + " is refused: " + e.getMessage()
                    + "; delete it to resume from the one before");
        }
        completed = payload.step();
        skipped = payload.counters().getOrDefault(SKIPPED, 0L);
        lastCheckpoint = r;
        String fp = network.fingerprint();
        LOG.info("resumed run {} at step {} (epoch {}) from {}, weights {}", runId, completed, payload.epoch(),
                r.location(), fp);
        listener.onResume(r, fp);
    }

    /**
     * Trains until {@code targetSteps} steps are complete (no-op if already there).
     *
     * @throws UserError when too many consecutive steps were non-finite
     */
    public Summary run(long targetSteps) {
        List<Double> losses = new ArrayList<>();
        int consecutiveBad = 0;
        long intervalStart = System.nanoTime();
        long intervalData = 0;
        double intervalLoss = 0;
        int intervalCount = 0;
        int intervalFinite = 0;
        LOG.info("training run {} from step {} to {} on {}", runId, completed, targetSteps, settings.device());
        while (completed < targetSteps) {
            int epoch = epochOf(completed);
            long t0 = System.nanoTime();
            ViewPairs batch = source.batch(epoch, completed % source.stepsPerEpoch());
            long t1 = System.nanoTime();
            DistributedStep.Result r = step.run(completed, new int[] {batch.batch()}, (offset, count) -> batch);
            long t2 = System.nanoTime();
            completed++;
            losses.add(r.loss());
            intervalData += t1 - t0;
            intervalCount++;
            if (r.applied()) {
                consecutiveBad = 0;
                intervalLoss += r.loss();
                intervalFinite++;
            } else {
                skipped++;
                consecutiveBad++;
                LOG.warn("step {} (epoch {}) skipped: {} ({} in a row)", completed, epoch, r.skipReason(), consecutiveBad);
            }
            listener.onStep(new StepReport(completed, epoch, r.loss(), r.applied(), r.skipReason(), t1 - t0, t2 - t1));
            if (consecutiveBad >= settings.maxConsecutiveNonFinite()) {
                throw new UserError("training stopped at step " + completed + " (epoch " + epoch + "): "
                        + consecutiveBad + " consecutive steps had a non-finite loss or gradient (last: "
                        + r.skipReason() + "); last good checkpoint: "
                        + (lastCheckpoint == null ? "none" : "step " + lastCheckpoint.step() + " at " + lastCheckpoint.location())
                        + "; check the data or lower clmr.run.optimizer.learning-rate");
            }
            if (completed % settings.logEverySteps() == 0 || completed == targetSteps) {
                long now = System.nanoTime();
                double seconds = (now - intervalStart) / 1e9;
                IntervalReport ir = new IntervalReport(epoch, completed, targetSteps,
                        intervalFinite == 0 ? Double.NaN : intervalLoss / intervalFinite,
                        intervalCount * (double) batch.batch() / seconds, intervalData / 1e9 / seconds, skipped);
                LOG.debug("epoch {} step {}/{} loss {} samples/s {} data-wait {}", epoch, completed, targetSteps,
                        ir.meanLoss(), ir.samplesPerSecond(), ir.dataWaitShare());
                listener.onInterval(ir);
                intervalStart = now;
                intervalData = 0;
                intervalLoss = 0;
                intervalCount = 0;
                intervalFinite = 0;
            }
            if (completed % spec.checkpoint().everySteps() == 0 || completed == targetSteps) {
                checkpoint();
            }
        }
        return new Summary(completed, epochOf(Math.max(0, completed - 1)), skipped, network.fingerprint(), losses,
                lastCheckpoint);
    }

    /** Writes, verifies and records a checkpoint of the current state, then applies retention. */
    public CheckpointRecord checkpoint() {
        int epoch = epochOf(Math.max(0, completed - 1));
        CheckpointPayload payload = TrainingCheckpoint.capture(network, adam, spec, configHash, epoch, completed,
                Map.of(SKIPPED, skipped));
        CheckpointRecord r = store.write(runId, completed, epoch, 0, spec.hash(), payload.encode());
        lastCheckpoint = r;
        store.prune(runId, RetentionPolicy.of(spec.checkpoint()));
        String fp = network.fingerprint();
        LOG.debug("checkpoint step {} (epoch {}) -> {} ({} bytes, sha256 {}), weights {}", completed, epoch,
                r.location(), r.sizeBytes(), r.sha256(), fp);
        listener.onCheckpoint(r, fp);
        return r;
    }

    @Override
    public void close() {
        adam.close();
        network.close();
    }
}
