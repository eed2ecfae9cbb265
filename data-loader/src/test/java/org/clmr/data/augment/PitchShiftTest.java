package org.clmr.data.augment;

import org.clmr.data.audio.Wav;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PitchShiftTest {
    private static final int RATE = 22050;
    private static final int CROP = 59049;
    private static final double[] CHORD = {261.63, 329.63, 392.00};

    @Test
    void sineMovesByTwoToTheNOverTwelveAndKeepsItsLength() {
        Scratch scratch = new Scratch();
        for (double n : new double[] {-5, -3, -1, 0.5, 2, 5}) {
            for (double f : new double[] {440, 1500}) {
                float[] x = Spectra.tones(CROP, RATE, 0.5, f);
                PitchShift.shift(x, RATE, n, scratch);
                assertEquals(CROP, x.length);
                double expected = f * Math.pow(2, n / 12);
                double measured = Spectra.peaks(x, RATE, 1, 10)[0];
                assertEquals(expected, measured, 0.005 * expected, f + " Hz shifted by " + n + " semitones");
            }
        }
    }

    @Test
    void chordPeaksAllMoveByTheRatio() {
        Scratch scratch = new Scratch();
        for (double n : new double[] {-5, -2, 3, 5}) {
            float[] x = Spectra.tones(CROP, RATE, 0.25, CHORD);
            PitchShift.shift(x, RATE, n, scratch);
            assertEquals(CROP, x.length);
            double[] peaks = Spectra.peaks(x, RATE, 3, 30);
            for (int i = 0; i < 3; i++) {
                double expected = CHORD[i] * Math.pow(2, n / 12);
                assertEquals(expected, peaks[i], 0.005 * expected, "note " + i + " shifted by " + n);
            }
        }
    }

    @Test
    void shortCropsKeepTheirLengthAndStayFinite() {
        Scratch scratch = new Scratch();
        for (int n : new int[] {10, 64, 100, 1000, 3000}) {
            for (double semitones : new double[] {-5, 5}) {
                float[] x = Spectra.tones(n, RATE, 0.9, 300, 3000);
                PitchShift.shift(x, RATE, semitones, scratch);
                assertEquals(n, x.length);
                for (float v : x) {
                    assertTrue(Float.isFinite(v) && Math.abs(v) < 2, "sample " + v + " of a " + n + "-sample crop");
                }
            }
        }
    }

    @Test
    void durationIsKeptSoTheEnvelopeStaysInPlace() {
        // A tone burst in the middle third: its energy must stay in the middle third after the shift.
        float[] x = new float[CROP];
        float[] tone = Spectra.tones(CROP, RATE, 0.5, 600);
        for (int i = CROP / 3; i < 2 * CROP / 3; i++) {
            x[i] = tone[i];
        }
        PitchShift.shift(x, RATE, 4, new Scratch());
        double inside = 0;
        double total = 0;
        for (int i = 0; i < CROP; i++) {
            double e = (double) x[i] * x[i];
            total += e;
            if (i > CROP / 3 - RATE / 20 && i < 2 * CROP / 3 + RATE / 20) {
                inside += e;
            }
        }
        assertEquals(1.0, inside / total, 0.02, "share of the energy within 50 ms of the burst");
        double rms = Math.sqrt(total / (CROP / 3.0));
        assertEquals(0.5 / Math.sqrt(2), rms, 0.05, "level of the shifted burst");
    }

    @Test
    void peaksAgreeWithSoxPitchFixtures() {
        Wav.Audio in = Wav.read(fixture("chord.wav"));
        check(in, 3, Wav.read(fixture("chord_pitch_up3_sox.wav")));
        check(in, -5, Wav.read(fixture("chord_pitch_down5_sox.wav")));
    }

    @Test
    void musicAgreesWithSoxPitchInSpectrumAndEnvelope() {
        Wav.Audio in = Wav.read(fixture("pluck.wav"));
        for (String[] c : new String[][] {{"3", "pluck_pitch_up3_sox.wav"}, {"-5", "pluck_pitch_down5_sox.wav"}}) {
            float[] ours = in.samples().clone();
            PitchShift.shift(ours, in.sampleRate(), Double.parseDouble(c[0]), new Scratch());
            float[] sox = Wav.read(fixture(c[1])).samples();
            Spectra.assertSimilar(ours, sox, in.sampleRate(), "pitch " + c[0] + " vs sox");
        }
    }

    private static void check(Wav.Audio in, double semitones, Wav.Audio sox) {
        float[] ours = in.samples().clone();
        PitchShift.shift(ours, in.sampleRate(), semitones, new Scratch());
        double[] a = Spectra.peaks(ours, in.sampleRate(), 3, 30);
        double[] b = Spectra.peaks(sox.samples(), sox.sampleRate(), 3, 30);
        for (int i = 0; i < 3; i++) {
            assertEquals(b[i], a[i], 0.005 * b[i], "peak " + i + " vs sox pitch " + semitones * 100);
        }
        double level = 10 * Math.log10(Spectra.power(ours) / Spectra.power(sox.samples()));
        assertEquals(0, level, 1.0, "power relative to sox, dB");
    }

    static Path fixture(String name) {
        try {
            return Path.of(PitchShiftTest.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
