package org.clmr.data.augment;

import org.clmr.data.random.Rng;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.AugmentSpec;
import org.clmr.protocol.run.RunSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AugmentationChainTest {
    private static final int RATE = 22050;
    private static final int CROP = 8192;

    static AugmentSpec defaults() {
        return RunSpec.from(ClmrConfig.defaults()).augment();
    }

    private static float[] view(long seed) {
        float[] x = Spectra.tones(CROP, RATE, 0.2, 220, 330, 440);
        Rng rng = new Rng(seed);
        for (int i = 0; i < CROP; i++) {
            x[i] += (float) (0.05 * rng.nextGaussian());
        }
        return x;
    }

    private static float[] augmented(AugmentationChain chain, long... keys) {
        float[] x = view(1);
        chain.apply(x, RATE, Rng.of(keys));
        return x;
    }

    @Test
    void namesListTheChainInOrder() {
        List<String> names = new ArrayList<>();
        AugmentationChain.from(defaults()).augmentations().forEach(a -> names.add(a.name()));
        assertEquals(AugmentationChain.NAMES, names);
    }

    @Test
    void sameSeedGivesBitIdenticalViewsAndOtherViewsDiffer() {
        AugmentationChain chain = AugmentationChain.from(defaults());
        float[] a = augmented(chain, 42, 3, 17, 0);
        assertArrayEquals(a, augmented(chain, 42, 3, 17, 0));
        int differing = 0;
        for (int view = 1; view < 20; view++) {
            differing += java.util.Arrays.equals(a, augmented(chain, 42, 3, 17, view)) ? 0 : 1;
        }
        assertEquals(19, differing, "views with other seeds differ");
    }

    @Test
    void everyViewTakesExactlySeventeenDrawsWhateverIsFixedOrForced() {
        AugmentationChain chain = AugmentationChain.from(defaults());
        AugmentationChain pinned = chain.restrictedTo(List.of("pitch", "reverb"),
                Map.of("pitch.semitones", "3", "filter.type", "high-pass", "delay.ms", "300"));
        for (long seed = 0; seed < 50; seed++) {
            Rng expected = new Rng(seed);
            for (int i = 0; i < 17; i++) {
                expected.nextLong();
            }
            long next = expected.nextLong();
            for (AugmentationChain c : List.of(chain, pinned)) {
                Rng rng = new Rng(seed);
                c.apply(view(seed), RATE, rng);
                assertEquals(next, rng.nextLong(), "draws of seed " + seed);
            }
        }
    }

    @Test
    void fixedParametersAndOnlyChooseWhatIsApplied() {
        AugmentationChain chain = AugmentationChain.from(defaults())
                .restrictedTo(List.of("gain"), Map.of("gain.db", "-6"));
        List<String> applied = new ArrayList<>();
        float[] x = view(2);
        float[] expected = x.clone();
        Gain.apply(expected, -6);
        chain.apply(x, RATE, new Rng(9), (a, p) -> applied.add(a.name() + "=" + p[0]));
        assertEquals(List.of("gain=-6.0"), applied);
        assertArrayEquals(expected, x);
    }

    @Test
    void unknownNamesAndBadValuesAreRejectedNamingThem() {
        AugmentationChain chain = AugmentationChain.from(defaults());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> chain.restrictedTo(Set.of("echo"), Map.of()))
                .getMessage().contains("echo"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> chain.restrictedTo(Set.of(), Map.of("pitch.cents", "3"))).getMessage().contains("semitones"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> chain.restrictedTo(Set.of(), Map.of("filter.type", "band"))).getMessage().contains("high-pass"));
    }

    @Test
    void outputIsFiniteAndWithinUnitRangeAfterLoudAugmentations() {
        AugmentationChain chain = AugmentationChain.from(defaults())
                .restrictedTo(List.of("gain", "delay", "reverb"), Map.of("gain.db", "12", "reverb.reverberance", "100"));
        float[] x = view(3);
        chain.apply(x, RATE, new Rng(1));
        float peak = 0;
        for (float v : x) {
            assertTrue(Float.isFinite(v));
            peak = Math.max(peak, Math.abs(v));
        }
        assertEquals(1f, peak, 0f, "an overflowing view is scaled to a peak of exactly 1");
    }

    @Test
    void drawsFollowTheConfiguredProbabilities() {
        AugmentationChain chain = AugmentationChain.from(defaults());
        Map<String, Integer> counts = new java.util.HashMap<>();
        int views = 2000;
        float[] x = new float[256];
        for (int v = 0; v < views; v++) {
            chain.apply(x, RATE, Rng.of(7, v), (a, p) -> counts.merge(a.name(), 1, Integer::sum));
        }
        List<Augmentation> augs = chain.augmentations();
        for (int i = 0; i < augs.size(); i++) {
            double rate = counts.getOrDefault(augs.get(i).name(), 0) / (double) views;
            double p = chain.probability(i);
            assertEquals(p, rate, 4 * Math.sqrt(p * (1 - p) / views) + 1e-9, augs.get(i).name());
        }
    }

    @Test
    @Timeout(60)
    void threadsShareOneChainWithoutInterfering() throws Exception {
        AugmentationChain chain = AugmentationChain.from(defaults());
        int views = 48;
        float[][] sequential = new float[views][];
        for (int v = 0; v < views; v++) {
            sequential[v] = augmented(chain, 5, 0, v, 0);
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> futures = new ArrayList<>();
            for (int v = 0; v < views; v++) {
                long track = v;
                futures.add(pool.submit(() -> augmented(chain, 5, 0, track, 0)));
            }
            for (int v = 0; v < views; v++) {
                assertArrayEquals(sequential[v], futures.get(v).get(), "view " + v);
            }
        } finally {
            pool.shutdownNow();
        }
        assertFalse(java.util.Arrays.equals(sequential[0], sequential[1]));
    }
}
