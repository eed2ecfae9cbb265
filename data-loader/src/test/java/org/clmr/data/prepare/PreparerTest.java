package org.clmr.data.prepare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.audio.Wav;
import org.clmr.data.dataset.DatasetIndex;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PrepareReport;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.dataset.Skipped;
import org.clmr.data.dataset.Split;
import org.clmr.data.dataset.Track;
import org.clmr.protocol.UserError;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class PreparerTest {
    private static final int SR = 16000;

    @TempDir
    static Path tmp;
    static Path music;

    /** A folder of real files: good WAVs and MP3s, and every kind of bad file. */
    @BeforeAll
    static void folder() throws IOException {
        TestAudio.assumeFfmpeg();
        music = tmp.resolve("music");
        TestAudio.tone(music.resolve("a/direct.wav"), 440, 2, SR, 1, "-c:a", "pcm_s16le");
        TestAudio.tone(music.resolve("a/stereo-44k.wav"), 330, 1.5, 44100, 2, "-c:a", "pcm_s16le");
        TestAudio.tone(music.resolve("b/song.mp3"), 550, 3, 22050, 2, "-c:a", "libmp3lame", "-b:a", "64k");
        TestAudio.tone(music.resolve("b/short.mp3"), 550, 0.4, 22050, 1, "-c:a", "libmp3lame");
        Files.writeString(music.resolve("b/notes.mp3"), "this is a text file, not an mp3\n");
        byte[] garbage = new byte[20000];
        new java.util.Random(3).nextBytes(garbage);
        Files.createDirectories(music.resolve("c"));
        Files.write(music.resolve("c/corrupt.wav"), garbage);
        Files.write(music.resolve("c/empty.flac"), new byte[0]);
        Files.writeString(music.resolve("c/README.txt"), "not audio");
    }

    private static DatasetIndex prepare(Path input, InputFormat format, Path out, int jobs) {
        return Preparer.run(new Preparer.Options(input, format, out, SR, jobs, 1.0, false, "ffmpeg", Duration.ofSeconds(5)));
    }

    private static Map<String, String> reasons(DatasetIndex index) {
        return index.skipped().stream().collect(Collectors.toMap(s -> Path.of(s.source()).getFileName().toString(),
                Skipped::reason));
    }

    @Test
    void shouldPackEveryGoodFileAndListEveryBadOneWithItsReason() throws IOException {
        Path out = tmp.resolve("folder-ds");
        DatasetIndex index = prepare(music, InputFormat.FOLDER, out, 2);
        assertEquals(List.of("a/direct.wav", "a/stereo-44k.wav", "b/song.mp3"),
                index.tracks().stream().map(Track::id).toList());
        PackedDataset ds = PackedDataset.open(out, SR);
        assertEquals(2 * SR, ds.track(0).length(), "a mono PCM16 WAV at the rate is read as it is");
        assertEquals(1.5 * SR, ds.track(1).length(), 2, "resampled from 44.1 kHz");
        assertEquals(3.0 * SR, ds.track(2).length(), 0.06 * SR, "mp3 decoded and resampled");
        assertTrue(index.tracks().stream().allMatch(t -> t.split() == Split.TRAIN && t.tags().length == 0));
        float[] expected = Wav.read(music.resolve("a/direct.wav")).samples();
        float[] got = new float[expected.length];
        ds.readCrop(ds.track(0), 0, got, 0, got.length);
        assertArrayEquals(expected, got);

        Map<String, String> why = reasons(index);
        assertEquals(5, why.size(), why.toString());
        assertTrue(why.get("short.mp3").startsWith("too short: 0.4"), why.get("short.mp3"));
        assertTrue(why.get("notes.mp3").startsWith("ffmpeg could not decode it"), why.get("notes.mp3"));
        assertTrue(why.get("corrupt.wav").startsWith("ffmpeg could not decode it"), why.get("corrupt.wav"));
        assertEquals("empty file (0 bytes)", why.get("empty.flac"));
        assertTrue(why.get("README.txt").startsWith("not an audio file"), why.get("README.txt"));

        String report = Files.readString(out.resolve(PrepareReport.TEXT_FILE));
        assertTrue(report.contains("tracks         3") && report.contains("skipped        5"), report);
        assertTrue(report.contains("notes.mp3: ffmpeg could not decode it"), report);
        JsonNode json = new ObjectMapper().readTree(out.resolve(PrepareReport.JSON_FILE).toFile());
        assertEquals(index.contentHash(), json.path("contentHash").asText());
        assertEquals(5, json.path("skippedFiles").size());
        ds.verify();
    }

    @Test
    void shouldGiveAStableHashThatChangesWithOneSample() throws IOException {
        DatasetIndex one = prepare(music, InputFormat.FOLDER, tmp.resolve("h1"), 1);
        DatasetIndex two = prepare(music, InputFormat.FOLDER, tmp.resolve("h2"), 3);
        assertEquals(one.contentHash(), two.contentHash(), "same input, any number of jobs: same hash");

        Path copy = tmp.resolve("music-copy");
        copyTree(music, copy);
        float[] x = Wav.read(copy.resolve("a/direct.wav")).samples();
        x[1234] += 0.25f;
        Wav.writePcm16(copy.resolve("a/direct.wav"), x, SR);
        DatasetIndex changed = prepare(copy, InputFormat.FOLDER, tmp.resolve("h3"), 2);
        assertNotEquals(one.contentHash(), changed.contentHash());
        assertEquals(one.tracks().stream().map(Track::length).toList(),
                changed.tracks().stream().map(Track::length).toList());
    }

    @Test
    void shouldReadTagsAndSplitsFromACsv() throws IOException {
        Path csv = tmp.resolve("labels.csv");
        Files.writeString(csv, String.join("\n",
                "path,split,rock,\"jazz, smooth\",piano",
                "music/a/direct.wav,train,1,0,1",
                "music/b/song.mp3,test,0,1,0",
                "music/a/stereo-44k.wav,valid,0,0,0",
                "music/b/missing.mp3,train,1,0,0",
                "music/a/direct.wav,train,2,0,0",
                ""), StandardCharsets.UTF_8);
        DatasetIndex index = prepare(csv, InputFormat.CSV, tmp.resolve("csv-ds"), 2);
        assertEquals(List.of("rock", "jazz, smooth", "piano"), index.tags());
        assertEquals(3, index.tracks().size());
        Track direct = index.tracks().get(0);
        assertEquals("music/a/direct.wav", direct.id());
        assertArrayEquals(new int[] {0, 2}, direct.tags());
        assertEquals(Split.TEST, index.tracks().get(1).split());
        assertArrayEquals(new int[] {1}, index.tracks().get(1).tags());
        assertEquals(Split.VALID, index.tracks().get(2).split());
        List<String> reasons = index.skipped().stream().map(Skipped::reason).toList();
        assertTrue(reasons.get(0).startsWith("no such file"), reasons.toString());
        assertTrue(reasons.get(1).contains("'rock' is '2'"), reasons.toString());
    }

    @Test
    void shouldPackAMagnaTagATuneTreeWithTopTagsFolderSplitsAndSongs() throws IOException {
        Path mtat = tmp.resolve("mtat");
        List<String> top = InputFormat.topTags();
        assertEquals(50, top.size());
        assertEquals("guitar", top.get(0));
        String[][] clips = {
                {"1", "0/artist-album-01-first_song-30-59.mp3", "guitar", "rock"},
                {"2", "0/artist-album-01-first_song-0-29.mp3", "guitar", "jazz"},
                {"3", "5/other-record-02-second-0-29.mp3", "piano", "choral"},
                {"4", "c/valid_artist-x-01-tune-0-29.mp3", "techno", ""},
                {"5", "e/test_artist-y-03-piece-0-29.mp3", "female", "quiet"},
                {"6", "e/missing-z-01-gone-0-29.mp3", "male", ""},
        };
        List<String> header = new ArrayList<>(List.of("clip_id", "jazz"));
        header.addAll(top);
        header.add("mp3_path");
        StringBuilder tsv = new StringBuilder(quoteAll(header)).append('\n');
        for (String[] c : clips) {
            List<String> row = new ArrayList<>();
            for (String h : header) {
                row.add(h.equals("clip_id") ? c[0] : h.equals("mp3_path") ? c[1]
                        : h.equals(c[2]) || h.equals(c[3]) ? "1" : "0");
            }
            tsv.append(quoteAll(row)).append('\n');
            if (!c[1].contains("missing")) {
                TestAudio.tone(mtat.resolve(c[1]), 300 + 50 * Integer.parseInt(c[0]), 1.2, 22050, 1, "-c:a", "libmp3lame");
            }
        }
        Files.writeString(mtat.resolve("annotations_final.csv"), tsv.toString(), StandardCharsets.UTF_8);

        DatasetIndex index = prepare(mtat, InputFormat.MTAT, tmp.resolve("mtat-ds"), 2);
        assertEquals(top, index.tags());
        assertEquals(List.of("2", "1", "3", "5", "4"), index.tracks().stream().map(Track::id).toList(),
                "ordered by song, then clip start");
        Track first = index.tracks().get(0);
        assertEquals("artist-album-01-first_song", first.song());
        assertArrayEquals(new int[] {top.indexOf("guitar")}, first.tags(), "jazz is not a top-50 tag");
        assertArrayEquals(new int[] {top.indexOf("guitar"), top.indexOf("rock")}, index.tracks().get(1).tags());
        assertEquals(Split.TRAIN, index.tracks().get(2).split());
        assertEquals(Split.TEST, index.tracks().get(3).split());
        assertEquals(Split.VALID, index.tracks().get(4).split());
        assertTrue(index.skipped().get(0).reason().startsWith("no such file (clip 6)"), index.skipped().toString());

        PackedDataset ds = PackedDataset.open(tmp.resolve("mtat-ds"), SR);
        assertEquals(3, PretrainView.of(ds, false).size());
        PretrainView songs = PretrainView.of(ds, true);
        assertEquals(2, songs.size(), "the two clips of first_song form one item");
        assertEquals(first.length() + index.tracks().get(1).length(), songs.length(0));
    }

    @Test
    void shouldFailWithTheReasonWhenNothingIsUsable() throws IOException {
        Path bad = tmp.resolve("bad");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("x.mp3"), "text");
        UserError e = assertThrows(UserError.class, () -> prepare(bad, InputFormat.FOLDER, tmp.resolve("bad-ds"), 1));
        assertTrue(e.getMessage().contains("no usable audio") && e.getMessage().contains("x.mp3"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("bad-ds")));
    }

    @Test
    void shouldSayHowToInstallFfmpegWhenItIsMissing() {
        UserError e = assertThrows(UserError.class, () -> Preparer.run(new Preparer.Options(music, InputFormat.FOLDER,
                tmp.resolve("no-ffmpeg"), SR, 1, 1.0, false, "/nonexistent/ffmpeg", Duration.ofSeconds(5))));
        assertTrue(e.getMessage().contains("apt-get install -y ffmpeg"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    private static String quoteAll(List<String> fields) {
        return fields.stream().map(f -> "\"" + f + "\"").collect(Collectors.joining("\t"));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
    }
}
