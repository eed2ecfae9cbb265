package org.clmr.data.dataset;

import org.clmr.protocol.Sha256;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.protocol.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The index of a packed dataset ({@value #FILE} beside the data file). Format specification, version 1:
 *
 * <pre>
 * DIR/
 *   data.pcm            every track's samples back to back: mono, signed 16-bit little-endian PCM,
 *                       no header; sample i of the dataset is at byte 2*i
 *   index.json          this index (UTF-8 JSON object, fields below)
 *   prepare-report.json what prepare found (counts, durations, tag counts, skipped files); informative
 *   prepare-report.txt  the same for people
 *
 * index.json
 *   format        "clmr-packed-dataset"
 *   version       1 (a reader refuses any other version)
 *   sampleRate    Hz of every track
 *   sampleFormat  "s16le"
 *   dataFile      "data.pcm"
 *   dataBytes     size of the data file = 2 * totalSamples
 *   trackCount    number of tracks
 *   totalSamples  sum of the tracks' lengths
 *   tags          the tag vocabulary, an array of strings; a track's tags are indices into it
 *   dataSha256    SHA-256 (hex) of the data file
 *   contentHash   SHA-256 (hex) of the canonical content below: what workers compare
 *   provenance    object: input, inputFormat, createdBy, createdAt (informative, not hashed)
 *   tracks        array of {id, source, offset, length, tags:[int], split:"train"|"valid"|"test", song?}
 *                 offset and length in samples; tracks are stored in offset order, without gaps
 *   skipped       array of {source, reason}: inputs left out (informative, not hashed)
 *
 * canonical content (compact JSON, no whitespace, UTF-8):
 *   ["clmr-packed-dataset",1,sampleRate,[tag,...],
 *    [[id,offset,length,[tag index,...],split,song-or-null],...],dataSha256]
 * </pre>
 *
 * The hash leaves out source paths and skipped files so that the same audio prepared on two machines
 * from different folders gives the same hash, and covers everything that decides what a worker reads.
 */
public record DatasetIndex(int sampleRate, List<String> tags, List<Track> tracks, List<Skipped> skipped,
                           String dataSha256, String contentHash, Map<String, String> provenance) {

    /** The {@code format} field's value. */
    public static final String FORMAT = "clmr-packed-dataset";
    /** The version this code writes and reads. */
    public static final int VERSION = 1;
    /** Name of the index file. */
    public static final String FILE = "index.json";
    /** Name of the data file. */
    public static final String DATA_FILE = "data.pcm";

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper COMPACT = new ObjectMapper();

    public DatasetIndex {
        tags = List.copyOf(tags);
        tracks = List.copyOf(tracks);
        skipped = List.copyOf(skipped);
        provenance = Collections.unmodifiableMap(new TreeMap<>(provenance));
    }

    /** Sum of the tracks' lengths. */
    public long totalSamples() {
        return tracks.isEmpty() ? 0 : tracks.get(tracks.size() - 1).end();
    }

    /** The canonical content's SHA-256 for the given fields (see the class comment). */
    public static String contentHash(int sampleRate, List<String> tags, List<Track> tracks, String dataSha256) {
        ArrayNode root = COMPACT.createArrayNode();
        root.add(FORMAT).add(VERSION).add(sampleRate);
        ArrayNode t = root.addArray();
        tags.forEach(t::add);
        ArrayNode rows = root.addArray();
        for (Track tr : tracks) {
            ArrayNode row = rows.addArray();
            row.add(tr.id()).add(tr.offset()).add(tr.length());
            ArrayNode tg = row.addArray();
            for (int x : tr.tags()) {
                tg.add(x);
            }
            row.add(tr.split().label());
            if (tr.song() == null) {
                row.addNull();
            } else {
                row.add(tr.song());
            }
        }
        root.add(dataSha256);
        try {
            return sha256(COMPACT.writeValueAsBytes(root));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(sha256Digest().digest(bytes));
    }

    static MessageDigest sha256Digest() {
        return Sha256.newDigest();
    }

    /** The index as JSON (the format above). */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT).put("version", VERSION).put("sampleRate", sampleRate).put("sampleFormat", "s16le")
                .put("dataFile", DATA_FILE).put("dataBytes", 2 * totalSamples()).put("trackCount", tracks.size())
                .put("totalSamples", totalSamples());
        ArrayNode t = o.putArray("tags");
        tags.forEach(t::add);
        o.put("dataSha256", dataSha256).put("contentHash", contentHash);
        ObjectNode p = o.putObject("provenance");
        provenance.forEach(p::put);
        ArrayNode rows = o.putArray("tracks");
        for (Track tr : tracks) {
            ObjectNode r = rows.addObject();
            r.put("id", tr.id()).put("source", tr.source()).put("offset", tr.offset()).put("length", tr.length());
            ArrayNode tg = r.putArray("tags");
            for (int x : tr.tags()) {
                tg.add(x);
            }
            r.put("split", tr.split().label());
            if (tr.song() != null) {
                r.put("song", tr.song());
            }
        }
        ArrayNode sk = o.putArray("skipped");
        for (Skipped s : skipped) {
            sk.addObject().put("source", s.source()).put("reason", s.reason());
        }
        return o;
    }

    /** Writes the index to {@code file}. */
    public void write(Path file) throws IOException {
        Files.write(file, JSON.writeValueAsBytes(toJson()));
    }

    /**
     * Reads and checks an index file: format, version, field types, track layout and the content hash
     * over the stored fields (the data file itself is checked by {@link PackedDataset#verify()}).
     */
    public static DatasetIndex read(Path file) {
        JsonNode o;
        try {
            o = JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UserError("cannot read dataset index " + file + ": " + oneLine(e.getMessage())
                    + "; re-run clmr prepare");
        }
        String where = "dataset index " + file;
        if (o == null || !FORMAT.equals(o.path("format").asText())) {
            throw new UserError(where + " is not a clmr packed dataset (format is not " + FORMAT + "); re-run clmr prepare");
        }
        int version = o.path("version").asInt(-1);
        if (version != VERSION) {
            throw new UserError(where + " has format version " + version + " but this clmr reads version "
                    + VERSION + "; re-run clmr prepare with this version");
        }
        int rate = o.path("sampleRate").asInt(0);
        List<String> tags = new ArrayList<>();
        o.path("tags").forEach(n -> tags.add(n.asText()));
        List<Track> tracks = new ArrayList<>();
        long next = 0;
        for (JsonNode r : o.path("tracks")) {
            int[] tg = new int[r.path("tags").size()];
            for (int i = 0; i < tg.length; i++) {
                tg[i] = r.path("tags").get(i).asInt();
                if (tg[i] < 0 || tg[i] >= tags.size()) {
                    throw new UserError(where + ": track " + r.path("id").asText() + " has tag index " + tg[i]
                            + " outside the vocabulary of " + tags.size() + "; the index is damaged, re-run clmr prepare");
                }
            }
            Split split = Split.parse(r.path("split").asText(""));
            Track t = new Track(r.path("id").asText(), r.path("source").asText(null), r.path("offset").asLong(-1),
                    r.path("length").asInt(-1), tg, split == null ? Split.TRAIN : split,
                    r.hasNonNull("song") ? r.get("song").asText() : null);
            if (split == null || t.offset() != next || t.length() < 0) {
                throw new UserError(where + ": track " + t.id() + " has a bad split or layout (offset "
                        + t.offset() + ", expected " + next + "); the index is damaged, re-run clmr prepare");
            }
            next = t.end();
            tracks.add(t);
        }
        List<Skipped> skipped = new ArrayList<>();
        o.path("skipped").forEach(n -> skipped.add(new Skipped(n.path("source").asText(), n.path("reason").asText())));
        Map<String, String> prov = new TreeMap<>();
        o.path("provenance").fields().forEachRemaining(e -> prov.put(e.getKey(), e.getValue().asText()));
        String dataSha = o.path("dataSha256").asText();
        String hash = o.path("contentHash").asText();
        if (rate <= 0 || o.path("trackCount").asInt(-1) != tracks.size() || o.path("totalSamples").asLong(-1) != next) {
            throw new UserError(where + ": sampleRate, trackCount or totalSamples do not match the tracks; "
                    + "the index is damaged, re-run clmr prepare");
        }
        if (!hash.equals(contentHash(rate, tags, tracks, dataSha))) {
            throw new UserError(where + ": contentHash " + hash + " does not match the index's content; "
                    + "the index was edited or damaged, re-run clmr prepare");
        }
        return new DatasetIndex(rate, tags, tracks, skipped, dataSha, hash, prov);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }

    /** Tracks of one split, in index order. */
    public List<Track> tracks(Split split) {
        List<Track> out = new ArrayList<>();
        for (Track t : tracks) {
            if (t.split() == split) {
                out.add(t);
            }
        }
        return out;
    }
}
