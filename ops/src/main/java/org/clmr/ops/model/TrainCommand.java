package org.clmr.ops.model;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.data.DataSettings;
import org.clmr.data.augment.AugmentationChain;
import org.clmr.ops.ConfigOptions;
import org.clmr.ops.cluster.LocalCluster;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.DirectoryCheckpointStore;
import org.clmr.protocol.run.RunSpec;
import org.clmr.protocol.steplog.StepLog;
import org.clmr.worker.train.PipelineViewSource;
import org.clmr.worker.train.StepLogListener;
import org.clmr.worker.train.StepReport;
import org.clmr.worker.train.SyntheticViewSource;
import org.clmr.worker.train.ViewPairSource;
import org.clmr.worker.train.TrainListener;
import org.clmr.worker.train.TrainSettings;
import org.clmr.worker.train.Trainer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.clmr.protocol.UserError;
import java.util.List;
import java.util.ArrayList;
import org.clmr.protocol.config.SettingsException;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code clmr train}: single-process pre-training on one device, resuming from the run directory's newest
 * checkpoint, on a packed dataset or, without one, the generated tone set ({@link SyntheticViewSource}).
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Pre-train SampleCNN + projection head with NT-Xent and Adam in this process (one device).",
                "Resumes from the newest checkpoint in RUN-DIR/checkpoints. Views come from --dataset (a packed "
                        + "dataset, through the batch pipeline) or, without it, from a generated tone set "
                        + "(clmr.worker.train.synthetic-tracks); both augmented by clmr.run.augment."})
public final class TrainCommand implements Callable<Integer> {
    /** The run id under RUN-DIR/checkpoints. */
    static final String RUN_ID = "train";

    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--dataset", paramLabel = "DIR",
            description = "a packed dataset (clmr prepare); without it, a generated tone set")
    Path dataset;

    @Option(names = "--preset", paramLabel = "P", description = "model preset: paper, small or tiny")
    String preset;

    @Option(names = "--batch", paramLabel = "B", description = "tracks per step (clmr.run.global-batch)")
    Integer batch;

    @Option(names = "--device", paramLabel = "D", description = "cpu, or cuda:N with the cuda build (clmr.worker.device)")
    String device;

    @ArgGroup(exclusive = true)
    Length length;

    static final class Length {
        @Option(names = "--epochs", paramLabel = "E", description = "train E epochs (clmr.run.epochs)")
        Integer epochs;

        @Option(names = "--steps", paramLabel = "K", description = "train until K steps are complete")
        Long steps;
    }

    @Option(names = "--workers", paramLabel = "N",
            description = "train as a local cluster: a coordinator and N worker processes on this machine (needs --dataset)")
    Integer workers;

    @Option(names = "--run-dir", paramLabel = "DIR", defaultValue = "clmr-run",
            description = "where checkpoints and the per-step log (steps-RUN_ID.csv) go (default ${DEFAULT-VALUE})")
    Path runDir;

    @Override
    public Integer call() {
        Map<String, Object> overrides = new HashMap<>();
        if (preset != null) {
            overrides.put("clmr.run.model.preset", preset);
        }
        if (batch != null) {
            overrides.put("clmr.run.global-batch", batch);
        }
        if (device != null) {
            overrides.put("clmr.worker.device", device);
        }
        if (length != null && length.epochs != null) {
            overrides.put("clmr.run.epochs", length.epochs);
        }
        Config config = ConfigFactory.parseMap(overrides).withFallback(options.load()).resolve();
        if (workers != null) {
            return trainOnLocalCluster(config, overrides);
        }
        RunSpec run = RunSpec.from(config);
        TrainSettings settings = TrainSettings.from(config);
        PrintWriter out = spec.commandLine().getOut();
        ViewPairSource source = dataset != null
                ? PipelineViewSource.open(dataset, run, DataSettings.from(config))
                : new SyntheticViewSource(run.seed(), settings.syntheticTracks(), run.globalBatch(), run.cropLength(),
                        run.sampleRate(), AugmentationChain.from(run.augment()));
        out.printf("clmr train: preset %s, batch %d, %s (%d steps/epoch), device %s, run spec %s%n",
                run.model().preset(), run.globalBatch(),
                dataset != null ? "dataset " + dataset : settings.syntheticTracks() + " generated tracks",
                source.stepsPerEpoch(), settings.device(), run.hash());
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(runDir.resolve("checkpoints"));
        try (source; StepLogListener steps = openStepLog();
             Trainer trainer = new Trainer(run, settings, source, store, RUN_ID,
                     TrainListener.all(new Printer(out), steps))) {
            long target = length != null && length.steps != null ? length.steps : trainer.stepsForEpochs();
            Trainer.Summary s = trainer.run(target);
            out.printf("done: %d steps (epoch %d), %d skipped, weights %s, last checkpoint %s%n", s.steps(), s.epoch(),
                    s.skipped(), s.fingerprint(), s.lastCheckpoint() == null ? "none" : s.lastCheckpoint().location());
            out.printf("step log: %s%s (clmr report --run-dir %s plots it)%n", steps.file(),
                    steps.failures() == 0 ? "" : ", " + steps.failures() + " row(s) could not be written", runDir);
        } finally {
            out.flush();
        }
        return 0;
    }

    private StepLogListener openStepLog() {
        try {
            return StepLogListener.open(runDir, RUN_ID, Clock.systemUTC());
        } catch (IOException e) {
            throw new UserError("cannot open the step log in " + runDir + ": " + e.getMessage()
                    + "; check that the run directory is writable");
        }
    }

    private int trainOnLocalCluster(Config config, Map<String, Object> overrides) {
        if (workers < 1 || dataset == null || (length != null && length.steps != null)) {
            throw new SettingsException("train --workers", "needs N >= 1 and --dataset DIR, and takes --epochs, not --steps");
        }
        RunSpec.from(config);
        List<String> args = new ArrayList<>(options.asArgs());
        overrides.forEach((k, v) -> {
            args.add("--set");
            args.add(k + "=" + v);
        });
        PrintWriter out = spec.commandLine().getOut();
        try {
            LocalCluster cluster = new LocalCluster(runDir, dataset, args, out);
            String reason = cluster.run(workers, DataSettings.from(config));
            out.println("done: " + reason);
            out.printf("step log: %s (clmr history --run-dir %s tells the run's events, clmr report --run-dir %s plots"
                    + " both)%n", StepLog.fileFor(runDir, cluster.runId()), runDir, runDir);
        } catch (IOException e) {
            throw new UserError("local cluster in " + runDir + ": " + (e.getMessage() == null ? e.toString()
                    : e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted");
        } finally {
            out.flush();
        }
        return 0;
    }

    /** Progress bar on a terminal, a line per interval and per checkpoint. */
    private static final class Printer implements TrainListener {
        private final PrintWriter out;
        private final boolean terminal = System.console() != null;

        Printer(PrintWriter out) {
            this.out = out;
        }

        @Override
        public void onStep(StepReport r) {
            if (terminal) {
                out.printf("\r  step %d  loss %.4f%s   ", r.step(), r.loss(), r.applied() ? "" : " (skipped)");
                out.flush();
            }
        }

        @Override
        public void onInterval(Trainer.IntervalReport r) {
            int width = 30;
            int done = (int) Math.min(width, width * r.step() / Math.max(1, r.targetSteps()));
            out.printf("%s[%s%s] epoch %d step %d/%d loss %.4f %.1f samples/s data-wait %.0f%% skipped %d%n",
                    terminal ? "\r" : "", "=".repeat(done), " ".repeat(width - done), r.epoch(), r.step(),
                    r.targetSteps(), r.meanLoss(), r.samplesPerSecond(), 100 * r.dataWaitShare(), r.skipped());
            out.flush();
        }

        @Override
        public void onCheckpoint(CheckpointRecord r, String fingerprint) {
            out.printf("checkpoint step %d -> %s (sha256 %s) weights %s%n", r.step(), r.location(),
                    r.sha256().substring(0, 16), fingerprint);
            out.flush();
        }

        @Override
        public void onResume(CheckpointRecord r, String fingerprint) {
            out.printf("resuming from step %d (%s), weights %s%n", r.step(), r.location(), fingerprint);
            out.flush();
        }
    }
}
