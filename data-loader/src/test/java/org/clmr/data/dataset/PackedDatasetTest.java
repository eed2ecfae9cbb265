package org.clmr.data.dataset;

import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PackedDatasetTest {

    static float[] ramp(int n, int seed) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.sin(0.01 * i * (seed + 1)) * 0.5f;
        }
        return x;
    }

    static Path write(Path out, int rate, float[]... tracks) {
        try (PackedDatasetWriter w = new PackedDatasetWriter(out, rate, List.of("a", "b", "c"), Map.of("input", "test"), false)) {
            for (int i = 0; i < tracks.length; i++) {
                w.add("t" + i, "src/t" + i + ".wav", tracks[i], new int[] {i % 3}, i == 2 ? Split.TEST : Split.TRAIN, null);
            }
            w.skip("src/bad.mp3", "ffmpeg could not decode it");
            w.commit(Map.of());
        }
        return out;
    }

    @Test
    void shouldReadBackEveryTrackWithTheIndexDescribingIt(@TempDir Path dir) {
        float[] a = ramp(5000, 0);
        float[] b = ramp(300, 1);
        float[] c = ramp(7000, 2);
        Path ds = write(dir.resolve("ds"), 16000, a, b, c);
        PackedDataset p = PackedDataset.open(ds, 16000);
        assertEquals(3, p.size());
        assertEquals(12300, p.index().totalSamples());
        assertEquals(List.of(0L, 5000L, 5300L), p.tracks().stream().map(Track::offset).toList());
        assertArrayEquals(new int[] {1}, p.track(1).tags());
        assertEquals(Split.TEST, p.track(2).split());
        assertEquals(List.of(new Skipped("src/bad.mp3", "ffmpeg could not decode it")), p.index().skipped());
        float[] got = new float[a.length];
        p.readCrop(p.track(0), 0, got, 0, a.length);
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], got[i], 1.0 / 32768);
        }
        p.verify();
    }

    @Test
    void shouldLeaveADatasetReadableByOtherUsersServices(@TempDir Path dir) throws IOException {
        Path ds = write(dir.resolve("ds"), 16000, ramp(100, 0));
        assertEquals("rwxr-xr-x", java.nio.file.attribute.PosixFilePermissions.toString(
                java.nio.file.Files.getPosixFilePermissions(ds)), "a clmr service user reads what an operator prepared");
    }

    @Test
    void shouldZeroPadACropPastTheEndOfAShortTrack(@TempDir Path dir) {
        Path ds = write(dir.resolve("ds"), 8000, ramp(100, 0), ramp(50, 1), ramp(100, 2));
        PackedDataset p = PackedDataset.open(ds);
        float[] dst = new float[80];
        java.util.Arrays.fill(dst, 9f);
        p.readCrop(p.track(1), 10, dst, 0, 80);
        for (int i = 0; i < 40; i++) {
            assertEquals(ramp(50, 1)[10 + i], dst[i], 1.0 / 32768);
        }
        for (int i = 40; i < 80; i++) {
            assertEquals(0f, dst[i], "sample " + i + " lies past the track and must be zero");
        }
    }

    @Test
    void shouldReadCropsThatCrossMappedChunkBoundaries(@TempDir Path dir) {
        Path ds = write(dir.resolve("ds"), 8000, ramp(3000, 0), ramp(2500, 1), ramp(4100, 2));
        PackedDataset whole = PackedDataset.open(ds);
        PackedDataset chunked = PackedDataset.open(ds, 0, 997);
        for (Track t : whole.tracks()) {
            for (int off = 0; off < t.length(); off += 331) {
                float[] x = new float[1500];
                float[] y = new float[1500];
                whole.readCrop(t, off, x, 0, x.length);
                chunked.readCrop(t, off, y, 0, y.length);
                assertArrayEquals(x, y, t.id() + " at " + off);
            }
        }
    }

    @Test
    void shouldFailInOneLineWhenTheSampleRateIsNotTheRunsRate(@TempDir Path dir) {
        Path ds = write(dir.resolve("ds"), 16000, ramp(100, 0));
        UserError e = assertThrows(UserError.class, () -> PackedDataset.open(ds, 22050));
        assertTrue(e.getMessage().contains("16000 Hz") && e.getMessage().contains("22050"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void shouldLeaveNothingThatLooksLikeADatasetWhenNotCommitted(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("ds");
        try (PackedDatasetWriter w = new PackedDatasetWriter(out, 8000, List.of(), Map.of(), false)) {
            w.add("x", "x", ramp(100, 0), new int[0], Split.TRAIN, null);
        }
        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "the temporary directory must be removed");
        }
        assertThrows(UserError.class, () -> PackedDataset.open(out));
    }

    @Test
    void shouldRefuseToCommitAnEmptyDatasetNamingTheFirstSkippedFile(@TempDir Path dir) {
        Path out = dir.resolve("ds");
        try (PackedDatasetWriter w = new PackedDatasetWriter(out, 8000, List.of(), Map.of(), false)) {
            w.skip("a.mp3", "empty file (0 bytes)");
            UserError e = assertThrows(UserError.class, () -> w.commit(Map.of()));
            assertTrue(e.getMessage().contains("no usable audio") && e.getMessage().contains("a.mp3"), e.getMessage());
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void shouldRefuseAnExistingOutputUnlessReplacing(@TempDir Path dir) {
        Path ds = write(dir.resolve("ds"), 8000, ramp(100, 0));
        String before = PackedDataset.open(ds).contentHash();
        assertThrows(UserError.class, () -> write(ds, 8000, ramp(100, 1)));
        try (PackedDatasetWriter w = new PackedDatasetWriter(ds, 8000, List.of(), Map.of(), true)) {
            w.add("y", "y", ramp(200, 3), new int[0], Split.TRAIN, null);
            w.commit(Map.of());
        }
        PackedDataset p = PackedDataset.open(ds);
        assertEquals(200, p.index().totalSamples());
        assertNotEquals(before, p.contentHash());
    }

    @Test
    void shouldGiveTheSameHashForTheSameContentAndAnotherForOneChangedSample(@TempDir Path dir) {
        float[] a = ramp(1000, 0);
        String h1 = PackedDataset.open(write(dir.resolve("one"), 8000, a, ramp(10, 1))).contentHash();
        String h2 = PackedDataset.open(write(dir.resolve("two"), 8000, a, ramp(10, 1))).contentHash();
        assertEquals(h1, h2);
        a[500] += 0.01f;
        String h3 = PackedDataset.open(write(dir.resolve("three"), 8000, a, ramp(10, 1))).contentHash();
        assertNotEquals(h1, h3);
    }

    @Test
    void shouldDetectDamagedDataAndAnEditedIndex(@TempDir Path dir) throws IOException {
        Path ds = write(dir.resolve("ds"), 8000, ramp(1000, 0));
        try (RandomAccessFile f = new RandomAccessFile(ds.resolve(DatasetIndex.DATA_FILE).toFile(), "rw")) {
            f.seek(100);
            f.write(f.read() ^ 1);
        }
        UserError bad = assertThrows(UserError.class, () -> PackedDataset.open(ds).verify());
        assertTrue(bad.getMessage().contains("damaged"), bad.getMessage());
        Path index = ds.resolve(DatasetIndex.FILE);
        Files.writeString(index, Files.readString(index).replace("\"split\" : \"train\"", "\"split\" : \"test\""),
                StandardCharsets.UTF_8);
        UserError edited = assertThrows(UserError.class, () -> PackedDataset.open(ds));
        assertTrue(edited.getMessage().contains("contentHash"), edited.getMessage());
    }

    @Test
    void shouldRefuseADataFileChangedAfterPrepareBeforeAChangedSampleIsRead(@TempDir Path dir) throws IOException {
        Path ds = dir.resolve("ds");
        try (PackedDatasetWriter w = new PackedDatasetWriter(ds, 8000, List.of("a"), Map.of(), false, 1000)) {
            w.add("t0", "t0.wav", ramp(1500, 0), new int[0], Split.TRAIN, null);
            w.add("t1", "t1.wav", ramp(1500, 1), new int[0], Split.TRAIN, null);
            w.commit(Map.of());
        }
        assertEquals(6, PackedDataset.open(ds).index().chunks().sha256().size(), "6000 bytes in chunks of 1000");
        try (RandomAccessFile f = new RandomAccessFile(ds.resolve(DatasetIndex.DATA_FILE).toFile(), "rw")) {
            f.seek(4500);  // a sample of track t1, in chunk 4
            f.write(f.read() ^ 1);
        }
        PackedDataset p = PackedDataset.open(ds);
        float[] dst = new float[1500];
        p.readCrop(p.track(0), 0, dst, 0, 1500);  // chunks 0..2 are unchanged
        UserError changed = assertThrows(UserError.class, () -> p.readCrop(p.track(1), 0, dst, 0, 1500));
        assertTrue(changed.getMessage().contains("chunk 4") && changed.getMessage().contains("changed after clmr prepare")
                && !changed.getMessage().contains("\n"), changed.getMessage());
    }

    @Test
    void shouldCheckTheWholeDataFileOfADatasetWithoutChunkHashesBeforeItsFirstRead(@TempDir Path dir)
            throws IOException {
        Path ds = write(dir.resolve("ds"), 8000, ramp(1000, 0));
        Path index = ds.resolve(DatasetIndex.FILE);
        var json = (com.fasterxml.jackson.databind.node.ObjectNode) DatasetIndex.JSON.readTree(index.toFile());
        json.remove("chunkBytes");
        json.remove("chunkSha256");
        Files.write(index, DatasetIndex.JSON.writeValueAsBytes(json));
        try (RandomAccessFile f = new RandomAccessFile(ds.resolve(DatasetIndex.DATA_FILE).toFile(), "rw")) {
            f.seek(1900);
            f.write(f.read() ^ 1);
        }
        PackedDataset p = PackedDataset.open(ds);
        assertFalse(p.index().chunks().recorded());
        UserError changed = assertThrows(UserError.class, () -> p.readCrop(p.track(0), 0, new float[10], 0, 10));
        assertTrue(changed.getMessage().contains("SHA-256"), changed.getMessage());
    }

    @Test
    void shouldNameTheFieldOfADamagedIndex(@TempDir Path dir) throws IOException {
        Path ds = write(dir.resolve("ds"), 8000, ramp(1000, 0));
        Path index = ds.resolve(DatasetIndex.FILE);
        String original = Files.readString(index);
        Files.writeString(index, original.replace("\"trackCount\" : 1", "\"trackCount\" : -3"));
        UserError count = assertThrows(UserError.class, () -> PackedDataset.open(ds));
        assertTrue(count.getMessage().contains("field trackCount is -3"), count.getMessage());
        Files.writeString(index, original.replaceFirst("\"chunkBytes\" : \\d+", "\"chunkBytes\" : 0"));
        UserError chunks = assertThrows(UserError.class, () -> PackedDataset.open(ds));
        assertTrue(chunks.getMessage().contains("field chunkBytes is 0"), chunks.getMessage());
    }

    @Test
    void shouldWriteAReportWithCountsAndEverySkippedFile(@TempDir Path dir) throws IOException {
        Path ds = write(dir.resolve("ds"), 100, ramp(300, 0), ramp(200, 1), ramp(100, 2));
        String text = Files.readString(ds.resolve(PrepareReport.TEXT_FILE));
        assertTrue(text.contains("tracks         3 (6.0 s"), text);
        assertTrue(text.contains("src/bad.mp3: ffmpeg could not decode it"), text);
        var json = DatasetIndex.JSON.readTree(ds.resolve(PrepareReport.JSON_FILE).toFile());
        assertEquals(3, json.path("tracks").asInt());
        assertEquals(1, json.path("skipped").asInt());
        assertEquals(5.0, json.path("splits").path("train").path("seconds").asDouble(), 1e-9);
        assertEquals(1, json.path("tagCounts").path("c").asInt());
        assertEquals(PackedDataset.open(ds).contentHash(), json.path("contentHash").asText());
    }
}
