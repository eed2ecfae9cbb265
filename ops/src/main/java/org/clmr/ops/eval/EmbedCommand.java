package org.clmr.ops.eval;

import com.typesafe.config.Config;
import org.clmr.data.DataSettings;
import org.clmr.data.audio.Ffmpeg;
import org.clmr.data.dataset.DatasetIndex;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.eval.EvalSettings;
import org.clmr.eval.EvaluationJob;
import org.clmr.eval.features.AudioEmbedder;
import org.clmr.eval.features.AudioFiles;
import org.clmr.eval.features.EmbeddingWriter;
import org.clmr.eval.features.FeatureExtractor;
import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.features.SampleCnnEncoder;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.run.RunSpec;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code clmr embed}: one embedding per track of a packed dataset, or per audio file (files and folders, decoded with
 * ffmpeg): the encoder's h averaged over the consecutive windows of the track or file.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Write one embedding per track of a packed dataset, or per audio file: the frozen encoder's h averaged"
                + " over the consecutive windows of the track (any length; a last partial window is dropped).",
                "Audio files and folders (every audio file below) are decoded with ffmpeg as clmr prepare decodes them;"
                        + " files that do not decode or are shorter than one window are skipped and listed (also in"
                        + " FILE.skipped.txt).",
                "FILE.npy (float32 [tracks, dim], numpy.load reads it) with FILE.ids.txt (ids in row order), or FILE.csv"
                        + " (track_id,h0,...)."})
public final class EmbedCommand implements Callable<Integer> {
    /** Skipped files printed at most; the rest are in the .skipped.txt file. */
    private static final int SHOWN = 20;

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions options;

    @ArgGroup(exclusive = true, multiplicity = "1")
    EncoderOptions encoder;

    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "PATH",
            description = "Audio files and folders of them, or one packed dataset (clmr prepare)")
    List<Path> inputs;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "FILE.npy or FILE.csv")
    Path out;

    @Override
    public Integer call() throws Exception {
        String name = out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".npy") && !name.endsWith(".csv")) {
            throw new SettingsException("--out", out, "must end in .npy (a .ids.txt is written beside it) or .csv");
        }
        Config config = options.load();
        EvalSettings settings = EvalSettings.from(config);
        PrintWriter pw = spec.commandLine().getOut();
        boolean dataset = inputs.size() == 1 && Files.isRegularFile(inputs.get(0).resolve(DatasetIndex.FILE));
        if (!dataset && inputs.stream().anyMatch(p -> Files.isRegularFile(p.resolve(DatasetIndex.FILE)))) {
            throw new UserError("a packed dataset must be the only --input (" + inputs + "); embed it on its own, or"
                    + " give the audio files and folders instead");
        }
        if (dataset) {
            embedDataset(inputs.get(0), config, settings, pw);
        } else {
            embedAudio(config, settings, pw);
        }
        pw.flush();
        return 0;
    }

    private void embedDataset(Path input, Config config, EvalSettings settings, PrintWriter pw) throws IOException {
        try (PackedDataset data = PackedDataset.open(input);
             SampleCnnEncoder enc = encoder.open(config, data.sampleRate())) {
            FeatureExtractor.Result r = EvaluationJob.allFeatures(enc, data, settings.featureBatch());
            wrote(pw, r.features(), enc, EmbeddingWriter.write(out, r.features()));
            if (!r.tooShort().isEmpty()) {
                pw.println(r.tooShort().size() + " track(s) shorter than one window (" + enc.inputLength() + " samples) have no embedding: "
                        + String.join(", ", r.tooShort().subList(0, Math.min(5, r.tooShort().size()))) + (r.tooShort().size() > 5 ? ", ..." : ""));
            }
        }
    }

    private void embedAudio(Config config, EvalSettings settings, PrintWriter pw) throws IOException {
        AudioFiles.Listing listing = AudioFiles.list(inputs);
        if (listing.sources().isEmpty()) {
            throw new UserError("no audio file in " + inputs + " (extensions clmr prepare reads: wav, mp3, flac, ogg,"
                    + " m4a, ...); " + listing.skipped().size() + " other file(s) there");
        }
        try (SampleCnnEncoder enc = encoder.open(config, RunSpec.from(config).sampleRate())) {
            AudioEmbedder.Result r = AudioEmbedder.embed(listing, enc, enc.sampleRate(),
                    new Ffmpeg(DataSettings.from(config).ffmpeg()), settings.featureBatch());
            Path skippedFile = r.skipped().isEmpty() ? null : skippedFileFor(out);
            if (skippedFile != null) {
                writeSkipped(skippedFile, r.skipped());
            }
            if (r.embeddings().clips() == 0) {
                listSkipped(pw, r.skipped(), skippedFile);
                pw.flush();
                throw new UserError("none of the " + listing.sources().size() + " audio file(s) could be embedded;"
                        + " the reasons are listed above and in " + skippedFile);
            }
            wrote(pw, r.embeddings(), enc, EmbeddingWriter.write(out, r.embeddings()));
            listSkipped(pw, r.skipped(), skippedFile);
        }
    }

    private static void wrote(PrintWriter pw, FeatureSet set, SampleCnnEncoder enc, List<Path> files) {
        pw.println("wrote " + set.clips() + " embeddings of " + set.dim() + " values (" + enc.description() + ") to "
                + String.join(" and ", files.stream().map(Path::toString).toList()));
    }

    private static void listSkipped(PrintWriter pw, List<AudioFiles.Skipped> skipped, Path file) {
        if (skipped.isEmpty()) {
            return;
        }
        pw.println(skipped.size() + " file(s) skipped" + (skipped.size() > SHOWN ? " (the first " + SHOWN + "; all in "
                + file + ")" : " (also in " + file + ")") + ":");
        skipped.stream().limit(SHOWN).forEach(s -> pw.println("  " + s.file() + ": " + s.reason()));
    }

    /** {@code FILE.skipped.txt} beside {@code FILE.npy} or {@code FILE.csv}. */
    static Path skippedFileFor(Path out) {
        String name = out.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return out.resolveSibling((dot < 0 ? name : name.substring(0, dot)) + ".skipped.txt");
    }

    private static void writeSkipped(Path file, List<AudioFiles.Skipped> skipped) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(file, skipped.stream().map(s -> s.file() + "\t" + s.reason()).toList(), StandardCharsets.UTF_8);
    }
}
