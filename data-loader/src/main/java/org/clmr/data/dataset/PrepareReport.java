package org.clmr.data.dataset;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code prepare-report.json} and {@code prepare-report.txt}: what a prepare packed (tracks and duration
 * per split, track lengths, tag counts) and every file it skipped with the reason.
 */
public final class PrepareReport {
    /** Name of the JSON report. */
    public static final String JSON_FILE = "prepare-report.json";
    /** Name of the human-readable report. */
    public static final String TEXT_FILE = "prepare-report.txt";

    private PrepareReport() {
    }

    /** The report's figures as JSON. */
    public static ObjectNode toJson(DatasetIndex index, Map<String, Object> extras) {
        ObjectNode o = DatasetIndex.JSON.createObjectNode();
        double rate = index.sampleRate();
        o.put("contentHash", index.contentHash()).put("sampleRate", index.sampleRate())
                .put("tracks", index.tracks().size()).put("skipped", index.skipped().size())
                .put("totalSamples", index.totalSamples()).put("totalSeconds", round(index.totalSamples() / rate));
        ObjectNode splits = o.putObject("splits");
        for (Split s : Split.values()) {
            List<Track> ts = index.tracks(s);
            long n = ts.stream().mapToLong(Track::length).sum();
            splits.putObject(s.label()).put("tracks", ts.size()).put("seconds", round(n / rate));
        }
        int[] lengths = index.tracks().stream().mapToInt(Track::length).sorted().toArray();
        o.putObject("trackSeconds").put("min", round(lengths[0] / rate))
                .put("median", round(lengths[lengths.length / 2] / rate))
                .put("max", round(lengths[lengths.length - 1] / rate));
        int[] counts = new int[index.tags().size()];
        for (Track t : index.tracks()) {
            for (int tag : t.tags()) {
                counts[tag]++;
            }
        }
        ObjectNode tagCounts = o.putObject("tagCounts");
        for (int i = 0; i < counts.length; i++) {
            tagCounts.put(index.tags().get(i), counts[i]);
        }
        long songs = index.tracks().stream().map(Track::song).filter(s -> s != null).distinct().count();
        if (songs > 0) {
            o.put("songs", songs);
        }
        extras.forEach((k, v) -> o.putPOJO(k, v));
        ArrayNode sk = o.putArray("skippedFiles");
        for (Skipped s : index.skipped()) {
            sk.addObject().put("source", s.source()).put("reason", s.reason());
        }
        return o;
    }

    /** The report as lines of text. */
    public static String toText(DatasetIndex index, Map<String, Object> extras) {
        ObjectNode j = toJson(index, extras);
        StringBuilder b = new StringBuilder();
        b.append("clmr packed dataset\n");
        b.append(String.format(Locale.ROOT, "content hash   %s%n", index.contentHash()));
        b.append(String.format(Locale.ROOT, "sample rate    %d Hz%n", index.sampleRate()));
        b.append(String.format(Locale.ROOT, "tracks         %d (%s)%n", index.tracks().size(),
                duration(j.path("totalSeconds").asDouble())));
        for (Split s : Split.values()) {
            ObjectNode sp = (ObjectNode) j.path("splits").path(s.label());
            b.append(String.format(Locale.ROOT, "  %-12s %d (%s)%n", s.label(), sp.path("tracks").asInt(),
                    duration(sp.path("seconds").asDouble())));
        }
        if (j.has("songs")) {
            b.append(String.format(Locale.ROOT, "songs          %d%n", j.path("songs").asLong()));
        }
        b.append(String.format(Locale.ROOT, "track length   min %.2f s, median %.2f s, max %.2f s%n",
                j.path("trackSeconds").path("min").asDouble(), j.path("trackSeconds").path("median").asDouble(),
                j.path("trackSeconds").path("max").asDouble()));
        extras.forEach((k, v) -> b.append(String.format(Locale.ROOT, "%-14s %s%n", k, v)));
        if (!index.tags().isEmpty()) {
            b.append("tags (tracks with the tag)\n");
            j.path("tagCounts").fields().forEachRemaining(e ->
                    b.append(String.format(Locale.ROOT, "  %-20s %d%n", e.getKey(), e.getValue().asInt())));
        }
        b.append("skipped        ").append(index.skipped().size()).append('\n');
        for (Skipped s : index.skipped()) {
            b.append("  ").append(s.source()).append(": ").append(s.reason()).append('\n');
        }
        return b.toString();
    }

    static void write(Path dir, DatasetIndex index, Map<String, Object> extras) throws IOException {
        Files.write(dir.resolve(JSON_FILE), DatasetIndex.JSON.writeValueAsBytes(toJson(index, extras)));
        Files.writeString(dir.resolve(TEXT_FILE), toText(index, extras), StandardCharsets.UTF_8);
    }

    private static double round(double seconds) {
        return Math.round(seconds * 1000) / 1000.0;
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%.1f s = %d:%02d:%02d", seconds, s / 3600, (s / 60) % 60, s % 60);
    }
}
