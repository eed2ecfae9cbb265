package org.clmr.data.augment;

import org.clmr.data.random.Rng;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SimpleAugmentationsTest {
    private static final int RATE = 22050;

    private static float[] music(long seed, int n) {
        Rng rng = new Rng(seed);
        float[] x = Spectra.tones(n, RATE, 0.2, 220, 330, 495);
        for (int i = 0; i < n; i++) {
            x[i] += (float) (0.05 * rng.nextGaussian());
        }
        return x;
    }

    @Test
    void polarityNegatesEverySampleExactly() {
        float[] x = music(1, 4096);
        float[] y = x.clone();
        new Polarity().apply(y, RATE, new double[0], new Scratch());
        for (int i = 0; i < x.length; i++) {
            assertEquals(-x[i], y[i], 0.0);
        }
    }

    @Test
    void noiseHasTheRequestedSnrRelativeToTheCropPower() {
        for (double snr : new double[] {80, 30, 10, 0}) {
            float[] x = music(2, 59049);
            float[] y = x.clone();
            Noise.add(y, snr, 1234);
            float[] noise = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                noise[i] = y[i] - x[i];
            }
            double measured = 10 * Math.log10(Spectra.power(x) / Spectra.power(noise));
            assertEquals(snr, measured, 0.5, "SNR at " + snr + " dB");
        }
    }

    @Test
    void noiseLeavesASilentCropSilentAndIsReproducibleFromItsSeed() {
        float[] silent = new float[1000];
        Noise.add(silent, 10, 7);
        assertArrayEquals(new float[1000], silent);
        float[] a = music(3, 5000);
        float[] b = a.clone();
        Noise.add(a, 20, 99);
        Noise.add(b, 20, 99);
        assertArrayEquals(a, b);
    }

    @Test
    void gainIsExactInDecibels() {
        for (double db : new double[] {-6, -3.3, 0, 4.5}) {
            float[] x = music(4, 20000);
            float[] y = x.clone();
            Gain.apply(y, db);
            double measured = 10 * Math.log10(Spectra.power(y) / Spectra.power(x));
            assertEquals(db, measured, 1e-4, "gain " + db + " dB");
        }
    }

    @Test
    void delayOfAnImpulseGivesExactlyTheTwoImpulsesOfTheFormula() {
        for (int ms : new int[] {200, 350, 500}) {
            float[] x = new float[RATE];
            x[100] = 1f;
            Delay.apply(x, RATE, ms, 0.5);
            int d = Math.round(ms * RATE / 1000f);
            float[] expected = new float[RATE];
            expected[100] = 0.5f;
            expected[100 + d] = 0.25f;
            assertArrayEquals(expected, x, 0f, "delay " + ms + " ms");
        }
    }

    @Test
    void delayedPartIsZeroBeforeTheDelay() {
        float[] x = music(5, 20000);
        float[] y = x.clone();
        Delay.apply(y, RATE, 250, 0.5);
        int d = Math.round(250 * RATE / 1000f);
        for (int t = 0; t < d; t++) {
            assertEquals(x[t] * 0.5f, y[t], 0f);
        }
        for (int t = d; t < x.length; t++) {
            assertEquals((x[t] + 0.5f * x[t - d]) * 0.5f, y[t], 1e-7f);
        }
    }

    @Test
    void filterIsThreeDecibelsDownAtTheCutoffOnWhiteNoise() {
        for (double cutoff : new double[] {2200, 3000, 4000}) {
            assertEquals(cutoff, minus3dB(false, cutoff, RATE), 0.05 * cutoff, "low-pass " + cutoff);
        }
        for (double cutoff : new double[] {200, 700, 1200}) {
            assertEquals(cutoff, minus3dB(true, cutoff, RATE), 0.05 * cutoff, "high-pass " + cutoff);
        }
    }

    @Test
    void filterRollsOffTwelveDecibelsPerOctave() {
        // At 96 kHz, so that the bilinear transform's steepening towards Nyquist stays below 0.3 dB here.
        double[] lowPass = response(false, 2000, 96000);
        double hz = 96000.0 / FRAME;
        // Exact octaves between bins (23.4 Hz apart) about 2 and 4 times, or 1/4 and 1/8 of, the cut-off.
        int k = (int) Math.round(4000 / hz);
        double lowOctave = db(lowPass, 2 * k) - db(lowPass, k);
        assertEquals(-12, lowOctave, 0.75, "low-pass at 2000 Hz, " + k * hz + " Hz -> " + 2 * k * hz + " Hz");
        double[] highPass = response(true, 1200, 96000);
        k = (int) Math.round(150 / hz);
        double highOctave = db(highPass, k) - db(highPass, 2 * k);
        assertEquals(-12, highOctave, 0.75, "high-pass at 1200 Hz, " + 2 * k * hz + " Hz -> " + k * hz + " Hz");
    }

    private static final int FRAME = 4096;

    /** |H|^2 per bin from white noise: Welch spectrum of the output over that of the input. */
    private static double[] response(boolean high, double cutoff, int rate) {
        Rng rng = new Rng(11);
        float[] x = new float[1 << 18];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.1 * rng.nextGaussian());
        }
        float[] y = x.clone();
        Filter.apply(y, rate, high, cutoff);
        double[] in = Spectra.welch(x, FRAME);
        double[] out = Spectra.welch(y, FRAME);
        double[] h = new double[in.length];
        for (int k = 0; k < h.length; k++) {
            h[k] = out[k] / in[k];
        }
        return h;
    }

    private static double db(double[] h, int k) {
        return 10 * Math.log10(h[k]);
    }

    /** The frequency where the measured response crosses -3 dB, linearly interpolated between bins. */
    private static double minus3dB(boolean high, double cutoff, int rate) {
        double[] h = response(high, cutoff, rate);
        double hz = (double) rate / FRAME;
        for (int k = 1; k < h.length; k++) {
            double a = 10 * Math.log10(h[k - 1]) + 3;
            double b = 10 * Math.log10(h[k]) + 3;
            if (k * hz > cutoff / 2 && Math.signum(a) != Math.signum(b)) {
                return (k - 1 + a / (a - b)) * hz;
            }
        }
        throw new AssertionError("no -3 dB crossing");
    }

    @Test
    void filterDrawsTheCutoffFromTheChosenTypesRange() {
        Filter f = new Filter(2200, 4000, 200, 1200);
        Rng rng = new Rng(5);
        double[] p = new double[2];
        double[] free = {Double.NaN, Double.NaN};
        int highs = 0;
        for (int i = 0; i < 1000; i++) {
            f.draw(rng, p, free);
            if (p[0] == Filter.HIGH_PASS) {
                highs++;
                assertTrue(p[1] >= 200 && p[1] < 1200, "high-pass cut-off " + p[1]);
            } else {
                assertTrue(p[1] >= 2200 && p[1] < 4000, "low-pass cut-off " + p[1]);
            }
        }
        assertTrue(highs > 430 && highs < 570, "coin flip gave " + highs + " high-passes of 1000");
        f.draw(rng, p, new double[] {Filter.HIGH_PASS, Double.NaN});
        assertTrue(p[1] >= 200 && p[1] < 1200, "a fixed high-pass draws its cut-off from the high-pass range");
    }
}
