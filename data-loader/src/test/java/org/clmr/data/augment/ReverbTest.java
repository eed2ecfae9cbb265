package org.clmr.data.augment;

import org.clmr.data.audio.Wav;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReverbTest {
    private static final int RATE = 22050;

    /** The wet part of the reverb's response to a unit impulse at t = 0, {@code seconds} long. */
    private static float[] impulseResponse(double reverberance, double damping, double room, double seconds) {
        float[] x = new float[(int) (RATE * seconds)];
        x[0] = 1f;
        Reverb.apply(x, RATE, reverberance, damping, room, new Scratch());
        x[0] -= 1f;
        return x;
    }

    @Test
    void impulseEnergyDecaysMonotonically() {
        for (double[] p : new double[][] {{50, 50, 50}, {100, 50, 100}, {20, 80, 10}, {0, 0, 100}}) {
            float[] h = impulseResponse(p[0], p[1], p[2], 2.0);
            // Blocks of 100 ms: several round trips of every comb, so that their beating averages out.
            double[] e = Spectra.blockEnergyDb(h, RATE / 10);
            for (int b = 1; b < e.length && e[b] > e[0] - 60; b++) {
                assertTrue(e[b] <= e[b - 1] + 0.25, "100 ms block " + b + " of " + java.util.Arrays.toString(p)
                        + " is louder than the one before: " + e[b] + " > " + e[b - 1]);
            }
        }
    }

    @Test
    void decayTimeGrowsWithReverberanceAndRoomSize() {
        double previous = 0;
        for (double reverberance : new double[] {0, 25, 50, 75, 100}) {
            double t60 = Spectra.t60(impulseResponse(reverberance, 50, 60, 2.0), RATE);
            assertTrue(t60 > previous * 1.1, "T60 " + t60 + " s at reverberance " + reverberance
                    + " is not longer than " + previous + " s");
            previous = t60;
        }
        previous = 0;
        for (double room : new double[] {0, 25, 50, 75, 100}) {
            double t60 = Spectra.t60(impulseResponse(50, 50, room, 2.0), RATE);
            assertTrue(t60 > previous * 1.1, "T60 " + t60 + " s at room size " + room
                    + " is not longer than " + previous + " s");
            previous = t60;
        }
    }

    @Test
    void outputKeepsTheLengthAndStaysFinite() {
        float[] x = Spectra.tones(59049, RATE, 0.9, 100, 2000);
        Reverb.apply(x, RATE, 100, 0, 100, new Scratch());
        assertEquals(59049, x.length);
        for (float v : x) {
            assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void musicAgreesWithSoxReverbInSpectrumAndEnvelope() {
        Wav.Audio in = Wav.read(PitchShiftTest.fixture("pluck.wav"));
        float[] ours = in.samples().clone();
        Reverb.apply(ours, in.sampleRate(), 60, 80, 70, new Scratch());
        float[] sox = Wav.read(PitchShiftTest.fixture("pluck_reverb_60_80_70_sox.wav")).samples();
        Spectra.assertSimilar(ours, sox, in.sampleRate(), "reverb 60 80 70 vs sox");
        double level = 10 * Math.log10(Spectra.power(ours) / Spectra.power(sox));
        assertEquals(0, level, 0.5, "power relative to sox, dB");
    }

    @Test
    void decayTimeAndLevelAgreeWithSoxReverbFixtures() {
        Wav.Audio impulse = Wav.read(PitchShiftTest.fixture("impulse.wav"));
        for (String params : new String[] {"50_50_100", "0_50_100", "100_50_100", "50_50_20"}) {
            String[] p = params.split("_");
            float[] ours = impulse.samples().clone();
            float dry = ours[0];
            Reverb.apply(ours, impulse.sampleRate(), Double.parseDouble(p[0]), Double.parseDouble(p[1]),
                    Double.parseDouble(p[2]), new Scratch());
            ours[0] -= dry;
            float[] sox = Wav.read(PitchShiftTest.fixture("impulse_reverb_" + params + "_sox.wav")).samples();
            double t60Ours = Spectra.t60(ours, impulse.sampleRate());
            double t60Sox = Spectra.t60(sox, impulse.sampleRate());
            assertEquals(t60Sox, t60Ours, 0.1 * t60Sox, "T60 for reverb " + params);
            double level = 10 * Math.log10(Spectra.power(ours) / Spectra.power(sox));
            assertEquals(0, level, 1.0, "wet energy relative to sox for reverb " + params + ", dB");
        }
    }
}
