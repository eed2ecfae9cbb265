package org.clmr.data.generate;

import org.clmr.data.dataset.DatasetIndex;
import org.clmr.data.dataset.PackedDatasetWriter;
import org.clmr.data.dataset.Split;
import org.clmr.data.prepare.InOrder;
import org.clmr.data.prepare.Progress;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the generated music set as a packed dataset: track i is {@code Recipe.draw(seed, i)} rendered
 * for {@code seconds}; tags are {@link Recipe#TAGS}; positions i mod 10 in 0..7 are train, 8 valid,
 * 9 test. The same arguments give the same content hash whatever the number of jobs.
 */
public final class GeneratedSet {
    private GeneratedSet() {
    }

    /**
     * Generates and writes the set.
     *
     * @param out        dataset directory
     * @param tracks     number of tracks
     * @param seed       the set's seed
     * @param sampleRate Hz
     * @param seconds    length of every track
     * @param jobs       rendering threads
     * @param replace    replace an existing dataset at {@code out}
     * @param progressInterval how often to log progress when not on a terminal
     */
    public static DatasetIndex write(Path out, int tracks, long seed, int sampleRate, double seconds, int jobs,
                                     boolean replace, Duration progressInterval) {
        MusicGenerator.samples(sampleRate, seconds);
        long t0 = System.nanoTime();
        Map<String, String> provenance = new LinkedHashMap<>();
        provenance.put("inputFormat", "generate");
        provenance.put("input", String.format(Locale.ROOT, "generated music: %d tracks, seed %d, %.1f s", tracks, seed, seconds));
        provenance.put("createdBy", "clmr " + org.clmr.protocol.BuildInfo.version());
        try (PackedDatasetWriter w = new PackedDatasetWriter(out, sampleRate, Recipe.TAGS, provenance, replace);
             Progress progress = Progress.start("generate", tracks, progressInterval)) {
            InOrder.map(tracks, jobs, i -> {
                Recipe r = Recipe.draw(seed, i);
                return new Rendered(i, r, MusicGenerator.render(r, sampleRate, seconds));
            }, res -> {
                w.add(String.format(Locale.ROOT, "gen-%05d", res.index()), "generated:seed=" + seed + ":track=" + res.index(),
                        res.samples(), res.recipe().tags(), split(res.index()), null);
                progress.step();
            });
            Map<String, Object> extras = new LinkedHashMap<>();
            extras.put("elapsedSeconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
            extras.put("jobs", jobs);
            return w.commit(extras);
        }
    }

    private record Rendered(int index, Recipe recipe, float[] samples) {
    }

    /** The split of track {@code i}. */
    public static Split split(int i) {
        int m = i % 10;
        return m < 8 ? Split.TRAIN : m == 8 ? Split.VALID : Split.TEST;
    }
}
