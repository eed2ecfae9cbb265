package org.clmr.data.augment;

import java.util.ArrayList;
import java.util.List;

/** Measurement tools of the augmentation tests: FFT, averaged spectra, peak frequencies, decay rates. */
final class Spectra {
    private Spectra() {
    }

    /** In-place radix-2 complex FFT; length a power of two. */
    static void fft(double[] re, double[] im) {
        int n = re.length;
        for (int i = 1, j = 0; i < n; i++) {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) {
                j ^= bit;
            }
            j ^= bit;
            if (i < j) {
                double t = re[i];
                re[i] = re[j];
                re[j] = t;
                t = im[i];
                im[i] = im[j];
                im[j] = t;
            }
        }
        for (int len = 2; len <= n; len <<= 1) {
            double ang = -2 * Math.PI / len;
            for (int i = 0; i < n; i += len) {
                for (int k = 0; k < len / 2; k++) {
                    double wr = Math.cos(ang * k);
                    double wi = Math.sin(ang * k);
                    int a = i + k;
                    int b = a + len / 2;
                    double xr = re[b] * wr - im[b] * wi;
                    double xi = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - xr;
                    im[b] = im[a] - xi;
                    re[a] += xr;
                    im[a] += xi;
                }
            }
        }
    }

    /** Power spectrum (bins 0..n/2) of x Hann-windowed and zero-padded to n. */
    static double[] power(float[] x, int from, int length, int n) {
        double[] re = new double[n];
        double[] im = new double[n];
        for (int i = 0; i < length; i++) {
            double w = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / length);
            re[i] = x[from + i] * w;
        }
        fft(re, im);
        double[] p = new double[n / 2 + 1];
        for (int k = 0; k <= n / 2; k++) {
            p[k] = re[k] * re[k] + im[k] * im[k];
        }
        return p;
    }

    /** Welch's average of Hann-windowed power spectra of frames of {@code frame} samples, half-overlapping. */
    static double[] welch(float[] x, int frame) {
        double[] sum = new double[frame / 2 + 1];
        for (int start = 0; start + frame <= x.length; start += frame / 2) {
            double[] p = power(x, start, frame, frame);
            for (int k = 0; k < sum.length; k++) {
                sum[k] += p[k];
            }
        }
        return sum;
    }

    /**
     * The frequencies of the {@code count} strongest local maxima of x's spectrum (whole signal, Hann, padded to
     * 2^18), refined by parabolic interpolation of the log power, sorted ascending; maxima closer than
     * {@code minSeparationHz} to a stronger one are skipped.
     */
    static double[] peaks(float[] x, int sampleRate, int count, double minSeparationHz) {
        int n = 1 << 18;
        double[] p = power(x, 0, x.length, n);
        double hzPerBin = (double) sampleRate / n;
        List<double[]> maxima = new ArrayList<>();
        for (int k = 1; k < p.length - 1; k++) {
            if (p[k] > p[k - 1] && p[k] >= p[k + 1]) {
                double a = Math.log(p[k - 1] + 1e-300);
                double b = Math.log(p[k] + 1e-300);
                double c = Math.log(p[k + 1] + 1e-300);
                double delta = 0.5 * (a - c) / (a - 2 * b + c);
                maxima.add(new double[] {(k + delta) * hzPerBin, p[k]});
            }
        }
        maxima.sort((u, v) -> Double.compare(v[1], u[1]));
        List<Double> chosen = new ArrayList<>();
        for (double[] m : maxima) {
            boolean far = true;
            for (double f : chosen) {
                far &= Math.abs(f - m[0]) >= minSeparationHz;
            }
            if (far) {
                chosen.add(m[0]);
            }
            if (chosen.size() == count) {
                break;
            }
        }
        return chosen.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    /** Energy of consecutive blocks of {@code block} samples, in dB. */
    static double[] blockEnergyDb(float[] x, int block) {
        double[] e = new double[x.length / block];
        for (int b = 0; b < e.length; b++) {
            double s = 0;
            for (int i = b * block; i < (b + 1) * block; i++) {
                s += (double) x[i] * x[i];
            }
            e[b] = 10 * Math.log10(s + 1e-300);
        }
        return e;
    }

    /**
     * Decay time T60 (seconds) of an impulse response: -60 dB over the slope of the least-squares line through
     * its 20 ms block energies (dB) from the block after the loudest one until 50 dB below it or the end
     * (the response may be cut before it decays: a reverberance of 100 decays over several seconds).
     */
    static double t60(float[] h, int sampleRate) {
        int block = sampleRate / 50;
        double[] e = blockEnergyDb(h, block);
        int top = 0;
        for (int b = 1; b < e.length; b++) {
            if (e[b] > e[top]) {
                top = b;
            }
        }
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        int m = 0;
        for (int b = top + 1; b < e.length && e[b] > e[top] - 50; b++) {
            double t = b * 0.02;
            sx += t;
            sy += e[b];
            sxx += t * t;
            sxy += t * e[b];
            m++;
        }
        if (m < 3) {
            throw new AssertionError("too few blocks above the floor to fit a decay: " + m);
        }
        double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
        return -60 / slope;
    }

    /** Welch spectrum (2048-sample frames) in dB over the bins from {@code loHz} to {@code hiHz}. */
    static double[] logSpectrum(float[] x, int sampleRate, double loHz, double hiHz) {
        int frame = 2048;
        double[] p = welch(x, frame);
        int lo = (int) Math.ceil(loHz * frame / sampleRate);
        int hi = (int) Math.floor(hiHz * frame / sampleRate);
        double[] db = new double[hi - lo + 1];
        for (int k = lo; k <= hi; k++) {
            db[k - lo] = 10 * Math.log10(p[k] + 1e-30);
        }
        return db;
    }

    /** RMS of consecutive 20 ms blocks. */
    static double[] envelope(float[] x, int sampleRate) {
        int block = sampleRate / 50;
        double[] e = new double[x.length / block];
        for (int b = 0; b < e.length; b++) {
            double s = 0;
            for (int i = b * block; i < (b + 1) * block; i++) {
                s += (double) x[i] * x[i];
            }
            e[b] = Math.sqrt(s / block);
        }
        return e;
    }

    /** Pearson correlation over the common length. */
    static double correlation(double[] a, double[] b) {
        int n = Math.min(a.length, b.length);
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < n; i++) {
            ma += a[i] / n;
            mb += b[i] / n;
        }
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < n; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }

    /** Mean absolute difference over the common length. */
    static double meanAbsDifference(double[] a, double[] b) {
        int n = Math.min(a.length, b.length);
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.abs(a[i] - b[i]);
        }
        return s / n;
    }

    /**
     * Asserts that two renderings of the same music agree as SoX-vs-ours should: Welch log spectra (100 Hz to
     * 8 kHz) correlate above 0.99 and differ by under 2 dB on average, and their 20 ms envelopes correlate above
     * 0.98.
     */
    static void assertSimilar(float[] ours, float[] reference, int sampleRate, String what) {
        double[] a = logSpectrum(ours, sampleRate, 100, 8000);
        double[] b = logSpectrum(reference, sampleRate, 100, 8000);
        double corr = correlation(a, b);
        double diff = meanAbsDifference(a, b);
        double env = correlation(envelope(ours, sampleRate), envelope(reference, sampleRate));
        String m = what + ": log-spectrum correlation " + corr + ", mean |dB difference| " + diff
                + ", envelope correlation " + env;
        if (corr < 0.99 || diff > 2 || env < 0.98) {
            throw new AssertionError(m);
        }
        System.out.println(m);
    }

    /** Mean power. */
    static double power(float[] x) {
        double s = 0;
        for (float v : x) {
            s += (double) v * v;
        }
        return s / x.length;
    }

    /** Sum of sines of the given frequencies, each at {@code amplitude}. */
    static float[] tones(int n, int sampleRate, double amplitude, double... hz) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double v = 0;
            for (double f : hz) {
                v += amplitude * Math.sin(2 * Math.PI * f * i / sampleRate);
            }
            x[i] = (float) v;
        }
        return x;
    }
}
