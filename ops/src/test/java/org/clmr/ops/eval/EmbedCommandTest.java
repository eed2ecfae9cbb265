package org.clmr.ops.eval;

import org.clmr.data.audio.Wav;
import org.clmr.eval.features.Npy;
import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code clmr embed} on audio files and folders: ffmpeg, a random tiny encoder (windows of 2187 samples), real DJL. */
@Timeout(180)
class EmbedCommandTest {
    private static final String[] TINY = {"--encoder", "random", "--set", "run.model.preset=tiny"};

    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Result(cl.execute(args), out.toString(), err.toString());
    }

    /** {@code clmr embed} with the random tiny encoder and these arguments. */
    private static String[] embed(String... rest) {
        List<String> all = new java.util.ArrayList<>(List.of("embed"));
        all.addAll(List.of(TINY));
        all.addAll(List.of(rest));
        return all.toArray(String[]::new);
    }

    private static void tone(Path file, double seconds, double hz, long seed) throws Exception {
        Random rng = new Random(seed);
        float[] x = new float[(int) (seconds * 22050)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.4 * Math.sin(2 * Math.PI * hz * i / 22050) + 0.05 * rng.nextGaussian());
        }
        Files.createDirectories(file.getParent());
        Wav.writePcm16(file, x, 22050);
    }

    @Test
    void shouldEmbedEveryReadableFileOfAFolderAndListTheOthers() throws Exception {
        Path music = dir.resolve("music");
        tone(music.resolve("a.wav"), 1.0, 220, 1);
        tone(music.resolve("sub/b.wav"), 3.3, 330, 2);  // 33 windows, averaged
        tone(music.resolve("short.wav"), 0.05, 440, 3);  // 1102 samples: less than one window
        byte[] garbage = new byte[4096];
        new Random(4).nextBytes(garbage);
        Files.write(music.resolve("broken.mp3"), garbage);
        Files.writeString(music.resolve("notes.txt"), "liner notes");

        Path csv = dir.resolve("out/emb.csv");
        Result r = run(embed("--input", music.toString(), "--out", csv.toString()));
        assertEquals(0, r.code, r.err + r.out);
        assertTrue(r.out.contains("wrote 2 embeddings of 64 values"), r.out);
        assertTrue(r.out.contains("3 file(s) skipped (also in " + dir.resolve("out/emb.skipped.txt") + "):"), r.out);
        assertTrue(r.out.contains(music.resolve("broken.mp3") + ": ffmpeg could not decode it"), r.out);
        assertTrue(r.out.contains(music.resolve("short.wav") + ": shorter than one window: 1102 samples (0.05 s),"
                + " the encoder takes 2187"), r.out);
        assertTrue(r.out.contains(music.resolve("notes.txt") + ": not an audio file (extension 'txt')"), r.out);
        assertEquals(3, Files.readAllLines(dir.resolve("out/emb.skipped.txt")).size());
        Map<String, float[]> fromAudio = readCsv(csv);
        assertEquals(List.of("a.wav", "sub/b.wav"), List.copyOf(fromAudio.keySet()));

        // the same files through clmr prepare and a packed dataset give the same embeddings
        Path ds = dir.resolve("ds");
        Result prepared = run("prepare", "--input", music.toString(), "--format", "folder", "--out", ds.toString(),
                "--min-seconds", "0.01");
        assertEquals(0, prepared.code, prepared.err + prepared.out);
        Path npy = dir.resolve("ds.npy");
        Result fromDataset = run(embed("--input", ds.toString(), "--out", npy.toString()));
        assertEquals(0, fromDataset.code, fromDataset.err);
        Npy.Matrix m = Npy.read(npy);
        List<String> ids = Files.readAllLines(dir.resolve("ds.ids.txt"));
        for (String id : List.of("a.wav", "sub/b.wav")) {
            int row = ids.indexOf(id);
            float[] packed = java.util.Arrays.copyOfRange(m.data(), row * m.cols(), (row + 1) * m.cols());
            assertArrayEquals(packed, fromAudio.get(id), 1e-5f, id);
        }
    }

    @Test
    void shouldEmbedFilesGivenOneByOneAndFailWithOneLineWhenNoneDecodes() throws Exception {
        Path a = dir.resolve("x/a.wav");
        tone(a, 1.5, 200, 5);
        Path bad = dir.resolve("x/bad.flac");
        Files.writeString(bad, "not flac at all");
        Result r = run(embed("--input", a.toString(), bad.toString(), "--out", dir.resolve("one.npy").toString()));
        assertEquals(0, r.code, r.err + r.out);
        assertTrue(r.out.contains("wrote 1 embeddings"), r.out);
        assertEquals(List.of(a.toString()), Files.readAllLines(dir.resolve("one.ids.txt")));

        Result none = run(embed("--input", bad.toString(), "--out", dir.resolve("none.npy").toString()));
        assertEquals(1, none.code, none.err + none.out);
        assertEquals(1, none.err.strip().lines().count(), none.err);
        assertTrue(none.err.contains("none of the 1 audio file(s) could be embedded"), none.err);
        assertTrue(none.out.contains(bad + ": ffmpeg could not decode it"), none.out);

        Result wrongOut = run(embed("--input", a.toString(), "--out", dir.resolve("e.parquet").toString()));
        assertEquals(2, wrongOut.code, wrongOut.err);
        assertTrue(wrongOut.err.contains("must end in .npy"), wrongOut.err);
    }

    private static Map<String, float[]> readCsv(Path csv) throws Exception {
        Map<String, float[]> rows = new java.util.LinkedHashMap<>();
        List<String> lines = Files.readAllLines(csv);
        assertTrue(lines.get(0).startsWith("track_id,h0,h1,"), lines.get(0));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            float[] v = new float[f.length - 1];
            for (int i = 1; i < f.length; i++) {
                v[i - 1] = Float.parseFloat(f[i]);
            }
            rows.put(f[0], v);
        }
        return rows;
    }
}
