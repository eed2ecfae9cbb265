package org.clmr.data.generate;

import org.clmr.data.dataset.DatasetIndex;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.Split;
import org.clmr.data.dataset.Track;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MusicGeneratorTest {
    private static final int SR = 22050;

    @Test
    void shouldRenderTheSameSamplesForTheSameRecipe() {
        Recipe r = Recipe.draw(7, 3);
        assertEquals(r, Recipe.draw(7, 3));
        assertArrayEquals(MusicGenerator.render(r, SR, 2), MusicGenerator.render(r, SR, 2));
    }

    @Test
    void shouldWriteTheSameDatasetWhateverTheJobsAndTagsThatStateTheRecipes(@TempDir Path dir) {
        DatasetIndex one = GeneratedSet.write(dir.resolve("a"), 20, 11, 8000, 1.5, 1, false, Duration.ofSeconds(5));
        DatasetIndex two = GeneratedSet.write(dir.resolve("b"), 20, 11, 8000, 1.5, 2, false, Duration.ofSeconds(5));
        assertEquals(one.contentHash(), two.contentHash());
        assertNotEquals(one.contentHash(),
                GeneratedSet.write(dir.resolve("c"), 20, 12, 8000, 1.5, 2, false, Duration.ofSeconds(5)).contentHash());
        PackedDataset ds = PackedDataset.open(dir.resolve("a"), 8000);
        assertEquals(Recipe.TAGS, ds.index().tags());
        assertEquals(16, ds.index().tracks(Split.TRAIN).size());
        assertEquals(2, ds.index().tracks(Split.VALID).size());
        for (int i = 0; i < ds.size(); i++) {
            Track t = ds.track(i);
            Recipe r = Recipe.draw(11, i);
            assertArrayEquals(r.tags(), t.tags());
            assertEquals(12000, t.length());
            int instruments = 0;
            int modes = 0;
            int tempos = 0;
            for (int tag : t.tags()) {
                String name = Recipe.TAGS.get(tag);
                instruments += tag < 5 ? 1 : 0;
                modes += name.equals("major") || name.equals("minor") ? 1 : 0;
                tempos += name.equals("slow") || name.equals("medium") || name.equals("fast") ? 1 : 0;
            }
            assertTrue(instruments >= 1 && instruments <= 3, t.toString());
            assertEquals(1, modes);
            assertEquals(1, tempos);
            assertEquals(r.drums(), t.hasTag(Recipe.TAGS.indexOf("drums")));
        }
    }

    @Test
    void shouldMakeDifferentMusicForTheSameTags() {
        Recipe a = new Recipe(1, EnumSet.of(Instrument.PLUCK, Instrument.BASS), true, false, Recipe.Tempo.MEDIUM);
        Recipe b = a.withSeed(2);
        assertArrayEquals(a.tags(), b.tags());
        float[] x = MusicGenerator.render(a, SR, 4);
        float[] y = MusicGenerator.render(b, SR, 4);
        double xy = 0;
        double xx = 0;
        double yy = 0;
        for (int i = 0; i < x.length; i++) {
            xy += x[i] * y[i];
            xx += x[i] * x[i];
            yy += y[i] * y[i];
        }
        double correlation = xy / Math.sqrt(xx * yy);
        assertTrue(Math.abs(correlation) < 0.3, "correlation " + correlation);
    }

    @Test
    void shouldNotLetLoudnessRevealAnyTag() {
        int n = 120;
        double[] rms = new double[n];
        int[][] tags = new int[n][];
        for (int i = 0; i < n; i++) {
            Recipe r = Recipe.draw(3, i);
            float[] x = MusicGenerator.render(r, 8000, 2);
            double s = 0;
            for (float v : x) {
                s += v * v;
            }
            rms[i] = Math.sqrt(s / x.length);
            tags[i] = r.tags();
        }
        for (int tag = 0; tag < Recipe.TAGS.size(); tag++) {
            double auc = auc(rms, tags, tag);
            assertTrue(auc > 0.3 && auc < 0.7, "RMS separates tag " + Recipe.TAGS.get(tag) + ": ROC-AUC " + auc);
        }
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (double r : rms) {
            lo = Math.min(lo, r);
            hi = Math.max(hi, r);
        }
        double spreadDb = 20 * Math.log10(hi / lo);
        assertTrue(spreadDb < 2 * MusicGenerator.MAX_GAIN_DB + 0.5, "RMS spread " + spreadDb + " dB");
    }

    @Test
    void shouldPutTheTagsInTheAudio() {
        int n = 80;
        double[] low = new double[n];
        double[] high = new double[n];
        int[][] tags = new int[n][];
        for (int i = 0; i < n; i++) {
            Recipe r = Recipe.draw(5, i);
            float[] x = MusicGenerator.render(r, 8000, 3);
            double lp = 0;
            double lowEnergy = 0;
            double all = 0;
            int frame = 160;
            double[] hf = new double[x.length / frame];
            for (int k = 2; k < x.length; k++) {
                lp += 0.08 * (x[k] - lp);
                lowEnergy += lp * lp;
                all += x[k] * x[k];
                double d2 = x[k] - 2 * x[k - 1] + x[k - 2];
                if (k / frame < hf.length) {
                    hf[k / frame] += d2 * d2;
                }
            }
            low[i] = lowEnergy / all;
            high[i] = coefficientOfVariation(hf);
            tags[i] = r.tags();
        }
        double bass = auc(low, tags, Recipe.TAGS.indexOf("bass"));
        double drums = auc(high, tags, Recipe.TAGS.indexOf("drums"));
        assertTrue(bass > 0.75, "low-frequency share should reveal the bass: ROC-AUC " + bass);
        assertTrue(drums > 0.75, "rhythmic bursts of high frequencies should reveal the drums: ROC-AUC " + drums);
    }

    /** Standard deviation over mean: how much the 20 ms frames' high-frequency energy fluctuates. */
    private static double coefficientOfVariation(double[] v) {
        double m = 0;
        for (double x : v) {
            m += x;
        }
        m /= v.length;
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / v.length) / m;
    }

    /** ROC-AUC of {@code score} for {@code tag} (Mann-Whitney). */
    private static double auc(double[] score, int[][] tags, int tag) {
        double pairs = 0;
        double wins = 0;
        for (int i = 0; i < score.length; i++) {
            if (!has(tags[i], tag)) {
                continue;
            }
            for (int j = 0; j < score.length; j++) {
                if (has(tags[j], tag)) {
                    continue;
                }
                pairs++;
                wins += score[i] > score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
            }
        }
        return pairs == 0 ? 0.5 : wins / pairs;
    }

    private static boolean has(int[] tags, int tag) {
        for (int t : tags) {
            if (t == tag) {
                return true;
            }
        }
        return false;
    }
}
