package org.clmr.ops.eval;

import com.typesafe.config.Config;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.eval.EvalSettings;
import org.clmr.eval.EvaluationJob;
import org.clmr.eval.features.EmbeddingWriter;
import org.clmr.eval.features.FeatureExtractor;
import org.clmr.eval.features.SampleCnnEncoder;
import org.clmr.ops.ConfigOptions;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code clmr embed}: one embedding per track (the encoder's h averaged over the track's windows). */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Write one embedding per track of a packed dataset: the frozen encoder's h averaged over the track's consecutive windows.",
                "FILE.npy (float32 [tracks, dim], numpy.load reads it) with FILE.ids.txt (track ids in row order), or FILE.csv (track_id,h0,...)."})
public final class EmbedCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions options;

    @ArgGroup(exclusive = true, multiplicity = "1")
    EncoderOptions encoder;

    @Option(names = "--input", required = true, paramLabel = "DATASET", description = "A packed dataset (clmr prepare turns a folder of audio into one)")
    Path input;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "FILE.npy or FILE.csv")
    Path out;

    @Override
    public Integer call() throws Exception {
        Config config = options.load();
        EvalSettings settings = EvalSettings.from(config);
        PrintWriter pw = spec.commandLine().getOut();
        try (PackedDataset data = PackedDataset.open(input);
             SampleCnnEncoder enc = encoder.open(config, data.sampleRate())) {
            FeatureExtractor.Result r = EvaluationJob.allFeatures(enc, data, settings.featureBatch());
            List<Path> files = EmbeddingWriter.write(out, r.features());
            pw.println("wrote " + r.features().clips() + " embeddings of " + r.features().dim() + " values (" + enc.description() + ") to "
                    + String.join(" and ", files.stream().map(Path::toString).toList()));
            if (!r.tooShort().isEmpty()) {
                pw.println(r.tooShort().size() + " track(s) shorter than one window (" + enc.inputLength() + " samples) have no embedding: "
                        + String.join(", ", r.tooShort().subList(0, Math.min(5, r.tooShort().size()))) + (r.tooShort().size() > 5 ? ", ..." : ""));
            }
            pw.flush();
        }
        return 0;
    }
}
