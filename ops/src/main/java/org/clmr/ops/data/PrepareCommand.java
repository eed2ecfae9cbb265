package org.clmr.ops.data;

import com.typesafe.config.Config;
import org.clmr.data.DataSettings;
import org.clmr.data.dataset.DatasetIndex;
import org.clmr.data.dataset.PrepareReport;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.data.prepare.InputFormat;
import org.clmr.data.prepare.Preparer;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.run.RunSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code clmr prepare}: packs a folder, a CSV or MagnaTagATune into a packed dataset, or generates the
 * synthetic music set ({@code --generate N}). Prints the prepare report; exit 1 when nothing was usable.
 */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = {"Decode audio (ffmpeg: mono, resampled) into a packed dataset with an index, a content hash "
                + "and a report of every skipped file; or generate a synthetic multi-label music set.",
                "  clmr prepare --input PATH --format folder|csv|mtat --out DIR [--sample-rate 22050] [--jobs N]",
                "  clmr prepare --generate N --out DIR [--seed S] [--seconds T] [--sample-rate SR]"})
public final class PrepareCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--input", paramLabel = "PATH", description = "Folder, CSV file, or MagnaTagATune folder")
    Path input;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "folder",
            description = "folder (every audio file below PATH, no tags), csv (path, optional split, one 0/1 column "
                    + "per tag) or mtat (annotations_final.csv + mp3 folders 0-f; top-50 tags). Default: ${DEFAULT-VALUE}")
    String format;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "The dataset directory to create")
    Path out;

    @Option(names = "--sample-rate", paramLabel = "HZ", description = "Sample rate (default clmr.run.sample-rate)")
    Integer sampleRate;

    @Option(names = "--jobs", paramLabel = "N", description = "Parallel decoders (default clmr.data.prepare.jobs; 0 = cores)")
    Integer jobs;

    @Option(names = "--min-seconds", paramLabel = "S", description = "Skip shorter inputs (default clmr.data.prepare.min-seconds)")
    Double minSeconds;

    @Option(names = "--force", description = "Replace an existing dataset at --out")
    boolean force;

    @Option(names = "--generate", paramLabel = "N", description = "Generate N tracks of synthetic multi-label music instead")
    Integer generate;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the generated set (default clmr.data.generate.seed)")
    Long seed;

    @Option(names = "--seconds", paramLabel = "T", description = "Length of a generated track (default clmr.data.generate.seconds)")
    Double seconds;

    @Override
    public Integer call() {
        Config c = config.load();
        DataSettings s = DataSettings.from(c);
        int rate = sampleRate != null ? sampleRate : RunSpec.from(c).sampleRate();
        int nJobs = jobs != null && jobs > 0 ? jobs : s.effectiveJobs();
        if (rate < 1000 || rate > 384_000) {
            throw usage("--sample-rate " + rate + " must be in [1000, 384000]");
        }
        DatasetIndex index;
        if (generate != null) {
            if (input != null) {
                throw usage("give either --input or --generate, not both");
            }
            double len = seconds != null ? seconds : s.generateSeconds();
            if (generate < 1 || len <= 0) {
                throw usage("--generate needs N >= 1 and --seconds > 0");
            }
            index = GeneratedSet.write(out, generate, seed != null ? seed : s.generateSeed(), rate, len, nJobs, force,
                    s.progressInterval());
        } else {
            if (input == null) {
                throw usage("give --input PATH (with --format) or --generate N");
            }
            index = Preparer.run(new Preparer.Options(input, InputFormat.parse(format), out, rate, nJobs,
                    minSeconds != null ? minSeconds : s.minSeconds(), force, s.ffmpeg(), s.progressInterval()));
        }
        PrintWriter w = spec.commandLine().getOut();
        w.print(PrepareReport.toText(index, Map.of()));
        w.println("written to " + out.toAbsolutePath() + " (report: " + PrepareReport.TEXT_FILE + ", "
                + PrepareReport.JSON_FILE + ")");
        w.flush();
        return 0;
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
