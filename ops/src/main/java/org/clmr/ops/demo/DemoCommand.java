package org.clmr.ops.demo;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.data.DataSettings;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.eval.EvalSettings;
import org.clmr.eval.EvaluationJob;
import org.clmr.eval.features.SampleCnnEncoder;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.report.ReportWriter;
import org.clmr.eval.report.SummaryLines;
import org.clmr.ops.ConfigOptions;
import org.clmr.ops.cluster.LocalCluster;
import org.clmr.ops.report.RunReport;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.DirectoryCheckpointStore;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.run.RunSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code clmr demo}: the whole job end to end on this machine, with the embedded defaults. It generates a
 * multi-label music set ({@code clmr prepare --generate}), pre-trains the tiny preset on a local cluster of
 * two worker processes and a coordinator ({@code clmr train --workers 2}), takes the run's final committed
 * checkpoint out of the coordinator's database, and evaluates it and a random encoder of the same shape
 * with a linear probe ({@code clmr evaluate}), printing both rows and where the reports are (the training run's
 * own, {@code clmr report}, and the evaluations'). With the fair probe
 * (the default) it also runs the paper's unstandardised probe on the random encoder's cached features, to say in
 * one line what the fair probe changed in the random row.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Generate a music set, pre-train the tiny preset on a local cluster of 2 workers, and evaluate",
                "the result against a random encoder (a few minutes on a laptop CPU)."})
public final class DemoCommand implements Callable<Integer> {
    private static final List<String> OWNED = List.of("dataset", "run", "checkpoints", "eval-trained", "eval-random");
    /** Inside the random encoder's report: the paper protocol's report on the same features. */
    private static final String PAPER_REPORT = "paper-protocol";

    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "clmr-demo",
            description = "Where the dataset, run, checkpoint and reports go (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--force", description = "Replace the results of an earlier demo in --out")
    boolean force;

    @Option(names = "--tracks", paramLabel = "N", defaultValue = "320", description = "Generated tracks (default ${DEFAULT-VALUE})")
    int tracks;

    @Option(names = "--seconds", paramLabel = "T", defaultValue = "1.0",
            description = "Length of a generated track in seconds (default ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--epochs", paramLabel = "E", defaultValue = "15", description = "Pre-training epochs (default ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "16", description = "Global batch (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "2", description = "Worker processes (default ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--eval-epochs", paramLabel = "E", defaultValue = "60",
            description = "Most epochs of a probe trained with Adam (MLP heads, the paper protocol; default ${DEFAULT-VALUE};"
                    + " early stopping ends sooner). The default linear probe is fitted by L-BFGS and has no epochs")
    int evalEpochs;

    @Override
    public Integer call() throws Exception {
        if (tracks < 8 || seconds <= 0 || epochs < 1 || batch < 4 || workers < 1 || evalEpochs < 1) {
            throw new SettingsException("demo", "needs --tracks >= 8, --seconds > 0, --epochs >= 1, --batch >= 4,"
                    + " --workers >= 1 and --eval-epochs >= 1");
        }
        Map<String, Object> overrides = new LinkedHashMap<>();
        overrides.put("clmr.run.model.preset", "tiny");
        overrides.put("clmr.run.global-batch", batch);
        overrides.put("clmr.run.epochs", epochs);
        overrides.put("clmr.worker.threads", 1);
        overrides.put("clmr.eval.seeds", 1);
        overrides.put("clmr.eval.max-epochs", evalEpochs);
        Config config = ConfigFactory.parseMap(overrides).withFallback(options.load()).resolve();
        RunSpec run = RunSpec.from(config);
        EvalSettings evalSettings = EvalSettings.from(config);
        PrintWriter pw = spec.commandLine().getOut();
        Path dir = out.toAbsolutePath();
        prepareOut(dir);
        long t0 = System.nanoTime();

        Path dataset = dir.resolve("dataset");
        stage(pw, 1, "generating " + tracks + " tracks of " + seconds + " s of multi-label music -> " + dataset);
        int cores = Runtime.getRuntime().availableProcessors();
        GeneratedSet.write(dataset, tracks, run.seed(), run.sampleRate(), seconds, cores, true, Duration.ofSeconds(10));

        stage(pw, 2, String.format(Locale.ROOT, "pre-training the tiny preset: %d epochs, batch %d, %d workers (local cluster in %s)",
                epochs, batch, workers, dir.resolve("run")));
        List<String> args = new ArrayList<>(options.asArgs());
        overrides.forEach((k, v) -> {
            args.add("--set");
            args.add(k + "=" + v);
        });
        LocalCluster cluster = new LocalCluster(dir.resolve("run"), dataset, args, pw);
        String reason = cluster.run(workers, DataSettings.from(config));
        pw.println("training done: " + reason);
        Path checkpoint = exportCheckpoint(cluster, dir.resolve("checkpoints"));
        pw.println("final checkpoint: " + checkpoint);
        Path trainingReport = RunReport.write(config, dir.resolve("run"), cluster.runId(),
                dir.resolve("run").resolve("report")).markdown();
        pw.println("training report (loss, throughput, members over time, history): " + trainingReport);

        stage(pw, 3, "linear evaluation of the pre-trained encoder and of a random one (" + evalSettings.seeds() + " seed; "
                + evalSettings.protocol() + " probe: " + evalSettings.probe().describe() + ")");
        long e0 = System.nanoTime();
        Map<String, ProbeEvaluation.Result> rows = new LinkedHashMap<>();
        ProbeEvaluation.Result randomPaper = null;
        try (PackedDataset data = PackedDataset.open(dataset)) {
            try (SampleCnnEncoder trained = SampleCnnEncoder.fromCheckpoint(checkpoint)) {
                rows.put("pre-trained (CLMR)", EvaluationJob.run(trained, data, dir.resolve("eval-trained"), evalSettings).result());
            }
            try (SampleCnnEncoder random = SampleCnnEncoder.random(run.model(), data.sampleRate(), run.seed())) {
                Path report = dir.resolve("eval-random");
                rows.put("random encoder", EvaluationJob.run(random, data, report, evalSettings).result());
                if (!evalSettings.protocol().equals("paper")) {
                    EvalSettings paper = EvalSettings.from(ConfigFactory.parseMap(Map.of("clmr.eval.protocol", "paper")).withFallback(config));
                    randomPaper = EvaluationJob.run(random, data, report.resolve(PAPER_REPORT), paper,
                            report.resolve(EvaluationJob.FEATURES)).result();
                }
            }
        }
        printRows(pw, rows, randomPaper, (System.nanoTime() - e0) / 1e9);
        pw.println("training report: " + trainingReport);
        pw.println("evaluation reports: " + dir.resolve("eval-trained").resolve(ReportWriter.MARKDOWN) + " and "
                + dir.resolve("eval-random").resolve(ReportWriter.MARKDOWN)
                + (randomPaper != null ? " (paper protocol: " + dir.resolve("eval-random").resolve(PAPER_REPORT).resolve(ReportWriter.MARKDOWN)
                + ")" : ""));
        pw.printf(Locale.ROOT, "demo done in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        pw.flush();
        return 0;
    }

    /**
     * The evaluation rows (tag-wise and clip-wise AUCs, the encoder's dead feature dimensions, the chosen weight decay)
     * and, given the random encoder's paper-protocol result, one line saying what the fair probe changed in its row.
     */
    static void printRows(PrintWriter pw, Map<String, ProbeEvaluation.Result> rows, ProbeEvaluation.Result randomPaper, double seconds) {
        pw.println();
        pw.printf(Locale.ROOT, "%-20s %12s %12s %13s %13s %10s %13s%n", "encoder", "tag ROC-AUC", "tag PR-AUC", "clip ROC-AUC", "clip PR-AUC",
                "dead dims", "weight decay");
        rows.forEach((name, r) -> pw.printf(Locale.ROOT, "%-20s %12.4f %12.4f %13.4f %13.4f %10s %13s%n", name,
                r.tagRocAuc().mean(), r.tagPrAuc().mean(), r.clipRocAuc().mean(), r.clipPrAuc().mean(),
                SummaryLines.deadDims(r.trainFeatures()), SummaryLines.chosenWeightDecays(r)));
        ProbeEvaluation.Result random = rows.get("random encoder");
        if (randomPaper != null && random != null) {
            double[] range = random.trainFeatures().stdRange();
            String spread = Double.isNaN(range[0]) ? ""
                    : String.format(Locale.ROOT, " and the others' std spanning %.3g to %.3g", range[0], range[1]);
            pw.printf(Locale.ROOT, "random row: the paper's probe on raw features gives %.4f tag ROC-AUC; with %s dead dimensions%s,"
                            + " the probe now standardises features and picks weight decay %s on validation: %.4f%n",
                    randomPaper.tagRocAuc().mean(), SummaryLines.deadDims(random.trainFeatures()), spread,
                    SummaryLines.chosenWeightDecays(random), random.tagRocAuc().mean());
        }
        pw.printf(Locale.ROOT, "linear evaluation took %.0f s%n", seconds);
        pw.println();
    }

    private static void stage(PrintWriter pw, int n, String what) {
        pw.printf("[%d/3] %s%n", n, what);
        pw.flush();
    }

    /** --out must be new or empty, or hold an earlier demo's results that --force lets us replace. */
    private void prepareOut(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            List<Path> present;
            try (Stream<Path> s = Files.list(dir)) {
                present = s.toList();
            }
            if (!present.isEmpty() && !force) {
                throw new UserError("--out " + dir + " is not empty: give a new directory, or --force to replace an"
                        + " earlier demo's results there");
            }
            for (Path p : present) {
                if (!OWNED.contains(p.getFileName().toString())) {
                    throw new UserError("--out " + dir + " holds " + p.getFileName() + ", which is not a demo result:"
                            + " give a new or empty directory");
                }
            }
            for (Path p : present) {
                deleteTree(p);
            }
        }
        Files.createDirectories(dir);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /**
     * Copies the run's newest committed checkpoint (written by rank 0 into the coordinator's database) into
     * a checkpoint directory that {@code clmr evaluate --checkpoint} reads.
     */
    private static Path exportCheckpoint(LocalCluster cluster, Path root) {
        try (JdbcCheckpointStore db = JdbcCheckpointStore.open(cluster.databaseUrl(), "sa", "", 1)) {
            CheckpointRecord last = db.latest(cluster.runId()).orElseThrow(() -> new UserError("run "
                    + cluster.runId() + " committed no checkpoint; see the logs in its run directory"));
            DirectoryCheckpointStore files = new DirectoryCheckpointStore(root);
            files.write(last.runId(), last.step(), last.epoch(), last.generation(), last.runSpecHash(), db.read(last));
            return files.runDirectory(last.runId());
        }
    }
}
