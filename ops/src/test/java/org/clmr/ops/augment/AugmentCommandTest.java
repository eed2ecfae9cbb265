package org.clmr.ops.augment;

import org.clmr.data.audio.Wav;
import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AugmentCommandTest {
    private static final int RATE = 22050;

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
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private Path sine(double hz) {
        float[] x = new float[RATE];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.5 * Math.sin(2 * Math.PI * hz * i / RATE));
        }
        Path in = dir.resolve("in.wav");
        Wav.writePcm16(in, x, RATE);
        return in;
    }

    /** The frequency in [lo, hi] (0.25 Hz grid) with the largest DFT magnitude. */
    private static double strongest(float[] x, double lo, double hi) {
        double best = lo;
        double bestPower = -1;
        for (double f = lo; f <= hi; f += 0.25) {
            double re = 0;
            double im = 0;
            for (int i = 0; i < x.length; i++) {
                double a = 2 * Math.PI * f * i / RATE;
                re += x[i] * Math.cos(a);
                im += x[i] * Math.sin(a);
            }
            if (re * re + im * im > bestPower) {
                bestPower = re * re + im * im;
                best = f;
            }
        }
        return best;
    }

    @Test
    void shouldListEveryAugmentationWithItsParametersAndProbability() {
        Result r = run("augment", "--list");
        assertEquals(0, r.code, r.err);
        for (String s : new String[] {"polarity  p=0.8", "noise     p=0.01", "gain      p=0.3", "filter    p=0.8",
                "delay     p=0.3", "pitch     p=0.6", "reverb    p=0.6", "pitch.semitones", "-5 .. 5 semitones",
                "filter.cutoff-hz", "reverb.room-size", "delay.ms"}) {
            assertTrue(r.out.contains(s), s + " missing from:\n" + r.out);
        }
    }

    @Test
    void shouldShiftByExactlyTheFixedSemitones() throws Exception {
        Path out = dir.resolve("out.wav");
        Result r = run("augment", "--in", sine(440).toString(), "--out", out.toString(), "--only", "pitch",
                "--set", "pitch.semitones=3");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("pitch semitones=3.000"), r.out);
        Wav.Audio a = Wav.read(out);
        assertEquals(RATE, a.samples().length);
        double expected = 440 * Math.pow(2, 3 / 12.0);
        assertEquals(expected, strongest(a.samples(), 480, 560), 0.005 * expected);
    }

    @Test
    void shouldRenderTheSameFileForTheSameSeed() throws Exception {
        Path in = sine(300);
        Path a = dir.resolve("a.wav");
        Path b = dir.resolve("b.wav");
        assertEquals(0, run("augment", "--in", in.toString(), "--out", a.toString(), "--seed", "9",
                "--set", "run.augment.reverb.probability=1").code);
        assertEquals(0, run("augment", "--in", in.toString(), "--out", b.toString(), "--seed", "9",
                "--set", "run.augment.reverb.probability=1").code);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void shouldExitTwoNamingAnUnknownParameterOrMissingFiles() {
        Result r = run("augment", "--in", "x.wav", "--out", "y.wav", "--set", "pitch.cents=300");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("pitch has no parameter 'cents'; it has semitones"), r.err);
        assertEquals(2, run("augment", "--out", "y.wav").code);
        Result bad = run("augment", "--set", "run.augment.pitch.probability=2", "--list");
        assertEquals(2, bad.code);
        assertTrue(bad.err.contains("clmr.run.augment.pitch.probability"), bad.err);
    }
}
