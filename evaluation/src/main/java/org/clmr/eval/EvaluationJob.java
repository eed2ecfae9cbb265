package org.clmr.eval;

import org.clmr.protocol.Sha256;

import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.Split;
import org.clmr.data.prepare.Progress;
import org.clmr.eval.features.DatasetClips;
import org.clmr.eval.features.FeatureCache;
import org.clmr.eval.features.FeatureExtractor;
import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.features.SampleCnnEncoder;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.probe.ProbeProgress;
import org.clmr.eval.probe.ProbeSpec;
import org.clmr.eval.report.ReportContext;
import org.clmr.eval.report.ReportWriter;
import org.clmr.protocol.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code clmr evaluate} end to end: features of the train, valid and test splits from the frozen encoder
 * (cached in {@code <report>/features}), heads trained per seed, and the report. Caller's thread.
 */
public final class EvaluationJob {
    private static final Logger LOG = LoggerFactory.getLogger(EvaluationJob.class);
    /** Folder of the feature cache inside the report directory. */
    public static final String FEATURES = "features";

    private EvaluationJob() {
    }

    /**
     * What a run produced.
     *
     * @param result   the heads' metrics
     * @param files    the report's files
     * @param tooShort per split, tracks shorter than one window (left out)
     */
    public record Outcome(ProbeEvaluation.Result result, List<Path> files, Map<String, List<String>> tooShort) {
    }

    /** Runs the evaluation and writes the report into {@code out}, caching features in {@code out/features}. */
    public static Outcome run(SampleCnnEncoder encoder, PackedDataset dataset, Path out, EvalSettings settings) throws IOException {
        return run(encoder, dataset, out, settings, out.resolve(FEATURES));
    }

    /**
     * Runs the evaluation and writes the report into {@code out}, with the feature cache in {@code featureDir}
     * (another report's cache: a second protocol on the same encoder's features extracts nothing again).
     */
    public static Outcome run(SampleCnnEncoder encoder, PackedDataset dataset, Path out, EvalSettings settings, Path featureDir)
            throws IOException {
        checkRate(encoder, dataset);
        FeatureCache cache = new FeatureCache(featureDir);
        Map<String, List<String>> tooShort = new LinkedHashMap<>();
        Map<Split, FeatureSet> sets = new LinkedHashMap<>();
        for (Split split : Split.values()) {
            DatasetClips clips = DatasetClips.of(dataset, split);
            if (clips.size() == 0) {
                throw new UserError("dataset " + dataset.dir() + " has no " + split.label() + " tracks; linear evaluation needs"
                        + " train, valid and test splits (clmr prepare assigns them)");
            }
            FeatureExtractor.Result r = features(encoder, clips, cache, split.label(), dataset.contentHash(), settings.featureBatch());
            if (r.features().clips() == 0) {
                throw new UserError("every " + split.label() + " track of " + dataset.dir() + " is shorter than the encoder's "
                        + encoder.inputLength() + " samples; use a smaller model preset or longer tracks");
            }
            tooShort.put(split.label(), r.tooShort());
            sets.put(split, r.features());
        }
        ProbeEvaluation.Result result = ProbeEvaluation.run(sets.get(Split.TRAIN), sets.get(Split.VALID), sets.get(Split.TEST),
                settings.probe(), settings.labelFraction(), settings.seeds(), settings.seed(),
                ProbeProgress.forConsole(settings.probe(), encoder.description()
                        + (settings.labelFraction() < 1 ? " at label fraction " + settings.labelFraction() : "")));
        for (ProbeEvaluation.Run run : result.runs()) {
            if (run.gridEdge() == 1) {
                LOG.warn("seed {} chose the largest weight decay of the grid ({}); a larger one might score better on validation:"
                        + " extend clmr.eval.fair.weight-decay", run.seed(), ProbeSpec.plain(run.weightDecay()));
            }
        }
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("protocol", settings.protocol());
        config.put("dataset_dir", dataset.dir().toAbsolutePath().toString());
        config.put("dataset_content_hash", dataset.contentHash());
        config.put("sample_rate", dataset.sampleRate());
        config.put("encoder_identity", encoder.identity());
        config.put("model_preset", encoder.spec().preset());
        config.put("window_samples", encoder.inputLength());
        config.put("feature_dim", encoder.dim());
        config.put("features", "encoder h (not z), inference mode (batch-norm running statistics)");
        config.put("train_examples", "every consecutive window of each training track, carrying the track's tags");
        config.put("test_scores", "sigmoid outputs averaged over each track's consecutive windows (last partial window dropped)");
        for (Map.Entry<Split, FeatureSet> e : sets.entrySet()) {
            config.put(e.getKey().label() + "_tracks", e.getValue().clips());
            config.put(e.getKey().label() + "_windows", e.getValue().windows());
        }
        config.put("tracks_shorter_than_a_window", tooShort);
        List<String> tags = dataset.index().tags();
        String datasetLine = dataset.dir().getFileName() + " (" + tags.size() + " tags; train/valid/test tracks "
                + sets.get(Split.TRAIN).clips() + "/" + sets.get(Split.VALID).clips() + "/" + sets.get(Split.TEST).clips() + ")";
        List<Path> files = new ArrayList<>(ReportWriter.write(out, result,
                new ReportContext(encoder.description(), datasetLine, config), sets.get(Split.TEST).labels()));
        return new Outcome(result, files, tooShort);
    }

    /** Embeddings source: every track of the dataset, windows of the encoder's length. */
    public static FeatureExtractor.Result allFeatures(SampleCnnEncoder encoder, PackedDataset dataset, int batch) {
        checkRate(encoder, dataset);
        return extract(encoder, DatasetClips.all(dataset), "embedding", batch);
    }

    private static FeatureExtractor.Result features(SampleCnnEncoder encoder, DatasetClips clips, FeatureCache cache, String name,
                                                    String datasetHash, int batch) throws IOException {
        String key = sha256(encoder.identity() + "|" + datasetHash + "|" + encoder.inputLength() + "|" + name);
        var cached = cache.load(name, key);
        if (cached.isPresent()) {
            LOG.info("{} features from the cache {}", name, cache.dir());
            List<String> kept = cached.get().ids();
            List<String> tooShort = new ArrayList<>(clips.ids());
            tooShort.removeAll(kept);
            return new FeatureExtractor.Result(cached.get(), tooShort);
        }
        FeatureExtractor.Result r = extract(encoder, clips, name, batch);
        cache.store(name, key, r.features());
        return r;
    }

    private static FeatureExtractor.Result extract(SampleCnnEncoder encoder, DatasetClips clips, String name, int batch) {
        try (Progress progress = Progress.start("features " + name, clips.windows(encoder.inputLength()), Duration.ofSeconds(5))) {
            return FeatureExtractor.extract(clips.ids(), clips.tags(), clips.labels(), clips, encoder, batch, n -> {
                for (int i = 0; i < n; i++) {
                    progress.step();
                }
            });
        }
    }

    private static void checkRate(SampleCnnEncoder encoder, PackedDataset dataset) {
        if (encoder.sampleRate() != dataset.sampleRate()) {
            throw new UserError("dataset " + dataset.dir() + " is at " + dataset.sampleRate() + " Hz but the encoder was trained at "
                    + encoder.sampleRate() + " Hz; prepare the dataset with --sample-rate " + encoder.sampleRate());
        }
    }

    private static String sha256(String s) {
        return Sha256.hex(s);
    }
}
