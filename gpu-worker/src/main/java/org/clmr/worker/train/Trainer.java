package org.clmr.worker.train;

import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.checkpoint.CheckpointWriteException;
import org.clmr.protocol.checkpoint.RetentionPolicy;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.collective.LocalCollective;
import org.clmr.worker.model.ClmrNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Single-process CLMR training ({@code clmr train}): the {@link TrainingLoop} in a world of one
 * ({@link LocalCollective}), driven the way only a single process drives it. It resumes from the run's
 * newest checkpoint when there is one, runs plans that end where the run's
 * {@link org.clmr.protocol.run.CheckpointPolicy} asks for a checkpoint (and at the target step), writes it
 * and prunes old ones, and turns the loop's step reports into progress intervals for its
 * {@link TrainListener}. A step's batch depends only on (seed, epoch, step), so a resumed run repeats the
 * uninterrupted run's losses and weights exactly (CPU). Runs on the calling thread.
 */
public final class Trainer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final RunSpec spec;
    private final TrainSettings settings;
    private final CheckpointStore store;
    private final String runId;
    private final TrainListener listener;
    private final Intervals intervals = new Intervals();
    private final TrainingLoop loop;

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

    /**
     * A trainer at the run's newest checkpoint in {@code store}, or at step 0.
     *
     * @throws UserError when the batches do not fit the run, or the newest checkpoint is refused
     */
    public Trainer(RunSpec spec, TrainSettings settings, ViewPairSource source, CheckpointStore store, String runId,
                   TrainListener listener) {
        this.spec = spec;
        this.settings = settings;
        this.store = store;
        this.runId = runId;
        this.listener = listener;
        TrainingLoop.useThreads(settings.threads());
        this.loop = new TrainingLoop(spec, source, settings.maxConsecutiveNonFinite(), settings.djlDevice(), intervals);
        try {
            loop.join(new LocalCollective(0), 0, new int[] {spec.globalBatch()});
            resume();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Steps completed so far (after a resume: the checkpoint's step). */
    public long completedSteps() {
        return loop.completed();
    }

    /** The last checkpoint written or resumed from, if any. */
    public Optional<CheckpointRecord> lastCheckpoint() {
        return loop.lastCheckpoint();
    }

    /** The model (for inspection; do not train it elsewhere). */
    public ClmrNetwork network() {
        return loop.network();
    }

    /** Total steps of the run's epochs. */
    public long stepsForEpochs() {
        return spec.epochs() * loop.stepsPerEpoch();
    }

    private void resume() {
        Optional<CheckpointRecord> latest = store.latest(runId);
        if (latest.isEmpty()) {
            return;
        }
        CheckpointRecord r = latest.get();
        try {
            loop.resume(store, r);
        } catch (CheckpointCorruptException e) {
            throw new UserError("checkpoint " + r.location() + " is refused: " + e.getMessage()
                    + "; use the same configuration, another --run-dir, or delete it to resume from the one before");
        }
        String fp = loop.fingerprint();
        LOG.info("resumed run {} at step {} (epoch {}) from {}, weights {}", runId, loop.completed(), loop.epoch(),
                r.location(), fp);
        listener.onResume(r, fp);
    }

    /**
     * Trains until {@code targetSteps} steps are complete (no-op if already there), writing a checkpoint
     * every {@code clmr.run.checkpoint.every-steps} steps and at the target.
     *
     * @throws UserError when too many consecutive steps were non-finite
     */
    public Summary run(long targetSteps) {
        LOG.info("training run {} from step {} to {} on {}", runId, loop.completed(), targetSteps, settings.device());
        intervals.start(targetSteps);
        long every = spec.checkpoint().everySteps();
        while (loop.completed() < targetSteps) {
            long boundary = Math.min(targetSteps, (loop.completed() / every + 1) * every);
            loop.run(new Plan(0, loop.completed(), boundary), () -> false);
            checkpoint();
        }
        return new Summary(loop.completed(), loop.epoch(), loop.skipped(), loop.fingerprint(), intervals.losses,
                loop.lastCheckpoint().orElse(null));
    }

    /**
     * Writes, verifies and records a checkpoint of the current state, then applies retention.
     *
     * @throws UserError when the checkpoint cannot be stored (a full disk): nothing of it is left, the newest
     *                   checkpoint stored before is the one the next run resumes from
     */
    public CheckpointRecord checkpoint() {
        Optional<CheckpointRecord> before = loop.lastCheckpoint();
        CheckpointRecord r;
        try {
            r = loop.write(store, runId);
        } catch (CheckpointWriteException | CheckpointCorruptException e) {
            throw new UserError(e.getMessage() + "; nothing of it was kept, the newest good checkpoint is "
                    + before.map(c -> "of step " + c.step() + " (" + c.location() + ")").orElse("none")
                    + ": free space (or fix the store), then run the same command again to resume from it");
        }
        store.prune(runId, RetentionPolicy.of(spec.checkpoint()));
        listener.onCheckpoint(r, loop.fingerprint());
        return r;
    }

    @Override
    public void close() {
        loop.close();
    }

    /** Gathers step reports into the losses of a run and its progress intervals. */
    private final class Intervals implements StepListener {
        private final List<Double> losses = new ArrayList<>();
        private long target;
        private long startNs;
        private long dataNs;
        private double lossSum;
        private int count;
        private int finite;

        void start(long targetSteps) {
            losses.clear();
            target = targetSteps;
            reset(System.nanoTime());
        }

        private void reset(long now) {
            startNs = now;
            dataNs = 0;
            lossSum = 0;
            count = 0;
            finite = 0;
        }

        @Override
        public void onStep(StepReport r) {
            losses.add(r.loss());
            dataNs += r.result().phases().dataNs();
            count++;
            if (r.applied()) {
                lossSum += r.loss();
                finite++;
            }
            listener.onStep(r);
            if (r.step() % settings.logEverySteps() == 0 || r.step() == target) {
                long now = System.nanoTime();
                double seconds = (now - startNs) / 1e9;
                IntervalReport ir = new IntervalReport(r.epoch(), r.step(), target,
                        finite == 0 ? Double.NaN : lossSum / finite, count * (double) r.share() / seconds,
                        dataNs / 1e9 / seconds, r.skipped());
                LOG.debug("epoch {} step {}/{} loss {} samples/s {} data-wait {}", ir.epoch(), ir.step(), target,
                        ir.meanLoss(), ir.samplesPerSecond(), ir.dataWaitShare());
                listener.onInterval(ir);
                reset(now);
            }
        }
    }
}
