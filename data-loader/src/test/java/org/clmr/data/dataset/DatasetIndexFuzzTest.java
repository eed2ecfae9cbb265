package org.clmr.data.dataset;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.protocol.UserError;
import org.clmr.protocol.fuzz.ReaderContract;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Fuzzes {@link DatasetIndex#read} with mutated index files. Each input is read as it is and, when it is a JSON
 * object, once more with its contentHash recomputed from its fields as the format specifies, so that mutations
 * reach the checks behind the hash (the hash detects damage, it does not authenticate). A read index holds
 * tracks laid out back to back with tags inside the vocabulary.
 */
public class DatasetIndexFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Indexes as the writer makes them: empty, and with tracks of every split and a song. */
    public static Stream<byte[]> indexes() {
        List<Track> tracks = List.of(new Track("a.wav", "/in/a.wav", 0, 3, new int[] {0, 2}, Split.TRAIN, null),
                new Track("b", null, 3, 0, new int[] {}, Split.VALID, "song-1"),
                new Track("c", "c", 3, 5, new int[] {1}, Split.TEST, "song-1"));
        List<String> tags = List.of("rock", "pop", "jazz");
        return Stream.of(index(22050, List.of(), List.of()), index(16000, tags, tracks)).map(i -> {
            try {
                return JSON.writeValueAsBytes(i.toJson());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static DatasetIndex index(int rate, List<String> tags, List<Track> tracks) {
        String sha = "0".repeat(64);
        return new DatasetIndex(rate, tags, tracks, List.of(new Skipped("x.mp3", "corrupt")), sha,
                DatasetIndex.contentHash(rate, tags, tracks, sha), Map.of("input", "/in"));
    }

    @MethodSource("indexes")
    @FuzzTest(maxDuration = "20s")
    void anyIndexBytes(byte[] input) {
        check(input);
    }

    /** The target. */
    public static void check(byte[] input) {
        read("as given", input);
        byte[] rehashed = rehashed(input);
        if (rehashed != null) {
            read("rehashed", rehashed);
        }
    }

    private static void read(String how, byte[] bytes) {
        Path file = null;
        try {
            file = Files.createTempFile("clmr-index-fuzz", ".json");
            Files.write(file, bytes);
            Path f = file;
            ReaderContract.check("DatasetIndex.read of " + bytes.length + " bytes " + how, bytes.length,
                    ReaderContract.Allocation.BINARY, List.of(UserError.class), () -> DatasetIndex.read(f))
                    .ifPresent(DatasetIndexFuzzTest::holds);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (file != null) {
                file.toFile().delete();
            }
        }
    }

    private static void holds(DatasetIndex index) {
        long next = 0;
        for (Track t : index.tracks()) {
            if (t.offset() != next || t.length() < 0) {
                throw new AssertionError("track " + t + " does not follow at " + next);
            }
            for (int tag : t.tags()) {
                if (tag < 0 || tag >= index.tags().size()) {
                    throw new AssertionError("track " + t + " has a tag outside " + index.tags());
                }
            }
            next = t.end();
        }
    }

    /** The input with its contentHash recomputed from the fields as the specification reads them, or null. */
    static byte[] rehashed(byte[] input) {
        try {
            JsonNode o = JSON.readTree(input);
            if (o == null || !o.isObject()) {
                return null;
            }
            List<String> tags = new ArrayList<>();
            o.path("tags").forEach(n -> tags.add(n.asText()));
            List<Track> tracks = new ArrayList<>();
            for (JsonNode r : o.path("tracks")) {
                int[] tg = new int[r.path("tags").size()];
                for (int i = 0; i < tg.length; i++) {
                    tg[i] = r.path("tags").path(i).asInt();
                }
                Split split = Split.parse(r.path("split").asText(""));
                tracks.add(new Track(r.path("id").asText(), null, r.path("offset").asLong(), r.path("length").asInt(),
                        tg, split == null ? Split.TRAIN : split, r.hasNonNull("song") ? r.get("song").asText() : null));
            }
            ((ObjectNode) o).put("contentHash", DatasetIndex.contentHash(o.path("sampleRate").asInt(), tags, tracks,
                    o.path("dataSha256").asText()));
            return JSON.writeValueAsBytes(o);
        } catch (IOException | RuntimeException | StackOverflowError e) { // not an index the spec can hash: as given only
            return null;
        }
    }
}
