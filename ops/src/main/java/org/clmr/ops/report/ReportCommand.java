package org.clmr.ops.report;

import org.clmr.eval.report.TrainingReport;
import org.clmr.ops.ConfigOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code clmr report}: a training run's report, a Markdown page with PNG plots, from its run directory. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write a training run's report: report.md with the run's figures and history, and loss.png (per step,"
                + " raw and smoothed, checkpoints marked), throughput.png (per worker and in total), step-time.png (by"
                + " phase), timeline.png (steps over time, checkpoints marked) and, for a cluster run, members.png"
                + " (members and generations over time, each change with its reason).",
                "Reads the run directory's per-step log (steps-RUN_ID.csv) and, for a cluster run, its coordinator's"
                        + " journal (clmr.coordinator.database for PostgreSQL)."})
public final class ReportCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--run-dir", required = true, paramLabel = "DIR",
            description = "The run directory of clmr train, clmr coordinator or clmr train --workers")
    Path runDir;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the report goes (default RUN-DIR/report)")
    Path out;

    @Option(names = "--run-id", paramLabel = "ID", description = "The run (default: the one whose step log changed last)")
    String runId;

    @Override
    public Integer call() throws Exception {
        RunReport.Written w = RunReport.write(options.load(), runDir, runId, out != null ? out : runDir.resolve("report"));
        PrintWriter pw = spec.commandLine().getOut();
        if (!w.note().isEmpty()) {
            pw.println(w.note());
        }
        pw.println("report of run " + w.runId() + ": " + w.markdown() + " (with " + TrainingReport.LOSS + ", "
                + TrainingReport.THROUGHPUT + ", " + TrainingReport.STEP_TIME + ", " + TrainingReport.TIMELINE
                + (w.cluster() ? ", " + TrainingReport.MEMBERS : "") + ")");
        pw.flush();
        return 0;
    }
}
