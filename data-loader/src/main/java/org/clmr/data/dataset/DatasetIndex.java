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
 *   chunkBytes    optional: length of the data file's chunks that chunkSha256 hashes (a positive even number)
 *   chunkSha256   optional: SHA-256 (hex) of each chunk, in file order (the last one shorter); a reader checks a
 *                 chunk before it first reads from it (not hashed into contentHash: it describes the same bytes)
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
                           String dataSha256, String contentHash, Map<String, String> provenance, DataChunks chunks) {

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
        chunks = chunks == null ? DataChunks.NONE : chunks;
    }

    /** An index without chunk hashes (as written before they existed). */
    public DatasetIndex(int sampleRate, List<String> tags, List<Track> tracks, List<Skipped> skipped,
                        String dataSha256, String contentHash, Map<String, String> provenance) {
        this(sampleRate, tags, tracks, skipped, dataSha256, contentHash, provenance, DataChunks.NONE);
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
        if (chunks.recorded()) {
            o.put("chunkBytes", chunks.bytes());
            ArrayNode c = o.putArray("chunkSha256");
            chunks.sha256().forEach(c::add);
        }
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
        String where = "dataset index " + file;
        JsonNode o = tree(file);
        if (o == null || !o.isObject() || !FORMAT.equals(o.path("format").asText())) {
            throw new UserError(where + " is not a clmr packed dataset (format is not " + FORMAT + "); re-run clmr prepare");
        }
        int version = o.path("version").asInt(-1);
        if (version != VERSION) {
            throw new UserError(where + " has format version " + version + " but this clmr reads version "
                    + VERSION + "; re-run clmr prepare with this version");
        }
        for (String array : List.of("tags", "tracks")) {
            if (!o.path(array).isArray()) {
                throw damaged(where, "field " + array + " is " + shown(o.path(array)) + ", not an array");
            }
        }
        if (!o.path("sampleRate").isIntegralNumber() || !o.path("sampleRate").canConvertToInt()
                || o.path("sampleRate").asInt() <= 0) {
            throw damaged(where, "field sampleRate is " + shown(o.path("sampleRate")) + ", not a positive integer");
        }
        int rate = o.path("sampleRate").asInt(0);
        List<String> tags = new ArrayList<>();
        o.path("tags").forEach(n -> tags.add(n.asText()));
        List<Track> tracks = new ArrayList<>();
        long next = 0;
        for (JsonNode r : o.path("tracks")) {
            Track t = track(r, tags.size(), where);
            if (t.offset() != next) {
                throw damaged(where, "track " + quote(t.id()) + " has offset " + t.offset() + ", expected " + next);
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
        if (!o.path("trackCount").isIntegralNumber() || o.path("trackCount").asLong(-1) != tracks.size()) {
            throw damaged(where, "field trackCount is " + shown(o.path("trackCount")) + " but tracks lists "
                    + tracks.size());
        }
        if (!o.path("totalSamples").isIntegralNumber() || o.path("totalSamples").asLong(-1) != next) {
            throw damaged(where, "field totalSamples is " + shown(o.path("totalSamples")) + " but the tracks add up to "
                    + next);
        }
        DataChunks chunks = chunks(o, 2 * next, where);
        if (!hash.equals(contentHash(rate, tags, tracks, dataSha))) {
            throw new UserError(where + ": contentHash " + quote(hash) + " does not match the index's content; "
                    + "the index was edited or damaged, re-run clmr prepare");
        }
        return new DatasetIndex(rate, tags, tracks, skipped, dataSha, hash, prov, chunks);
    }

    /** The optional chunk hashes, checked against the data file's length. */
    private static DataChunks chunks(JsonNode o, long dataBytes, String where) {
        if (!o.has("chunkBytes") && !o.has("chunkSha256")) {
            return DataChunks.NONE;
        }
        JsonNode size = o.path("chunkBytes");
        if (!size.isIntegralNumber() || size.asLong() <= 0 || size.asLong() % 2 != 0) {
            throw damaged(where, "field chunkBytes is " + shown(size) + ", not a positive even number");
        }
        JsonNode list = o.path("chunkSha256");
        long expected = DataChunks.count(dataBytes, size.asLong());
        if (!list.isArray() || list.size() != expected) {
            throw damaged(where, "field chunkSha256 has " + (list.isArray() ? list.size() + " entries" : shown(list))
                    + ", the data's " + dataBytes + " bytes make " + expected + " chunks of " + size.asLong());
        }
        List<String> sha = new ArrayList<>();
        for (JsonNode h : list) {
            if (!h.isTextual() || !h.asText().matches("[0-9a-f]{64}")) {
                throw damaged(where, "field chunkSha256 has entry " + shown(h) + ", not a SHA-256 in hex");
            }
            sha.add(h.asText());
        }
        return new DataChunks(size.asLong(), sha);
    }

    /** A JSON value for a message: missing, or its text quoted and cut. */
    private static String shown(JsonNode v) {
        return v.isMissingNode() ? "missing" : quote(v.toString());
    }

    private static JsonNode tree(Path file) {
        try {
            return JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UserError("cannot read dataset index " + file + ": " + oneLine(e.getMessage())
                    + "; re-run clmr prepare");
        } catch (StackOverflowError e) {
            // Jackson 2.11 parses nested arrays recursively: a deep nest ends the stack, not the parser
            throw new UserError("dataset index " + file + " is nested too deeply to be an index; re-run clmr prepare");
        }
    }

    /** One entry of {@code tracks}, its types and tag indices checked. */
    private static Track track(JsonNode r, int vocabulary, String where) {
        String id = r.path("id").asText();
        JsonNode tagNodes = r.path("tags");
        Split split = Split.parse(r.path("split").asText(""));
        String bad = !r.isObject() ? "the entry is " + shown(r) + ", not an object"
                : !tagNodes.isArray() ? "field tags is " + shown(tagNodes) + ", not an array"
                : split == null ? "field split is " + shown(r.path("split")) + ", not train, valid or test"
                : !r.path("offset").isIntegralNumber() || !r.path("offset").canConvertToLong()
                        ? "field offset is " + shown(r.path("offset")) + ", not an integer"
                : !r.path("length").isIntegralNumber() || !r.path("length").canConvertToInt()
                        || r.path("length").asInt() < 0
                        ? "field length is " + shown(r.path("length")) + ", not a count of samples" : null;
        if (bad != null) {
            throw damaged(where, "track " + quote(id) + " has a bad split, tags, offset or length: " + bad);
        }
        int[] tg = new int[tagNodes.size()];
        for (int i = 0; i < tg.length; i++) {
            tg[i] = tagNodes.get(i).asInt();
            if (!tagNodes.get(i).canConvertToInt() || tg[i] < 0 || tg[i] >= vocabulary) {
                throw damaged(where, "track " + quote(id) + " has tag index " + tagNodes.get(i)
                        + " outside the vocabulary of " + vocabulary);
            }
        }
        return new Track(id, r.path("source").asText(null), r.path("offset").asLong(), r.path("length").asInt(), tg,
                split, r.hasNonNull("song") ? r.get("song").asText() : null);
    }

    private static UserError damaged(String where, String what) {
        return new UserError(where + ": " + what + "; the index is damaged, re-run clmr prepare");
    }

    /** A value from the file for a message: control characters escaped, cut at 80 characters. */
    private static String quote(String s) {
        String q = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        StringBuilder b = new StringBuilder();
        q.codePoints().forEach(c -> b.append(Character.isISOControl(c) ? String.format("\\u%04x", c)
                : new String(Character.toChars(c))));
        return b.toString();
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
