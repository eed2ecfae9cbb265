package org.clmr.data.augment;

import org.clmr.data.random.Rng;
import org.clmr.protocol.fuzz.Property;
import org.clmr.protocol.fuzz.Shrinking.Dim;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of every augmentation and of the chain over any parameter inside its configured range and at its
 * ends, any supported sample rate and crops of any length down to one sample (odd and tiny ones included):
 * the view keeps its length and stays finite; the chain's output is the applied augmentations followed by the
 * peak rule (scaled by 1/peak only when the peak exceeds 1), so its peak is at most 1.
 */
class AugmentationPropertyTest {
    private static final AugmentationChain CHAIN = AugmentationChain.from(AugmentationChainTest.defaults());
    private static final long STEPS = 1000;
    private static final List<Dim> ONE = List.of(Dim.of("augmentation", 0, AugmentationChain.NAMES.size() - 1),
            Dim.of("p0", 0, STEPS), Dim.of("p1", 0, STEPS), Dim.of("p2", 0, STEPS),
            Dim.of("sampleRate", 1000, 384_000), Dim.log("length", 1, 120_000), Dim.of("signal", 0, 3),
            Dim.of("seed", Long.MIN_VALUE, Long.MAX_VALUE));

    @Test
    void shouldKeepLengthAndFinitenessForAnyParameterOfEveryAugmentation() {
        Property.forAll("augmentation", ONE, 150, v -> {
            Augmentation a = CHAIN.augmentations().get((int) v[0]);
            double[] p = new double[a.parameters().size()];
            for (int i = 0; i < p.length; i++) {
                Parameter q = a.parameters().get(i);
                double at = q.min() + (q.max() - q.min()) * v[1 + i] / STEPS;
                p[i] = q.choices().isEmpty() ? at : Math.rint(at);
            }
            float[] x = signal((int) v[6], (int) v[5], v[7]);
            a.apply(x, (int) v[4], p, new Scratch());
            assertEquals((int) v[5], x.length);
            assertFinite(x, a.name() + Arrays.toString(p));
        });
    }

    @Test
    void shouldApplyThePeakRuleAfterTheDrawnAugmentationsOfAnyView() {
        List<Dim> dims = List.of(Dim.of("seed", Long.MIN_VALUE, Long.MAX_VALUE), Dim.of("sampleRate", 1000, 384_000),
                Dim.log("length", 1, 120_000), Dim.of("signal", 0, 3), Dim.of("forced", 0, 1));
        Property.forAll("augmentation chain", dims, 60, v -> {
            AugmentationChain chain = v[4] == 1 ? CHAIN.restrictedTo(AugmentationChain.NAMES, Map.of()) : CHAIN;
            float[] input = signal((int) v[3], (int) v[2], v[0]);
            float[] view = input.clone();
            List<Augmentation> applied = new ArrayList<>();
            List<double[]> params = new ArrayList<>();
            chain.apply(view, (int) v[1], new Rng(v[0]), (a, p) -> {
                applied.add(a);
                params.add(p.clone());
            });
            assertEquals(input.length, view.length);
            float[] replay = input.clone();
            for (int i = 0; i < applied.size(); i++) {
                applied.get(i).apply(replay, (int) v[1], params.get(i), new Scratch());
            }
            float peak = 0;
            for (float s : replay) {
                peak = Math.max(peak, Math.abs(s));
            }
            assertFinite(replay, "before the peak rule");
            AugmentationChain.limit(replay);
            assertArrayEquals(replay, view, "the chain is its augmentations and the peak rule");
            for (int i = 0; i < view.length; i++) {
                assertTrue(Math.abs(view[i]) <= 1f, "peak " + view[i]);
                if (peak <= 1f) {
                    assertEquals(replay[i], view[i]);
                }
            }
        });
    }

    /** A test signal: 0 noise, 1 a 440 Hz tone at full scale, 2 silence, 3 alternating full-scale samples. */
    static float[] signal(int kind, int length, long seed) {
        float[] x = new float[length];
        Rng rng = new Rng(seed);
        for (int i = 0; i < length; i++) {
            x[i] = switch (kind) {
                case 0 -> (float) (rng.nextDouble() * 2 - 1);
                case 1 -> (float) Math.sin(2 * Math.PI * 440 * i / 22050.0);
                case 2 -> 0f;
                default -> i % 2 == 0 ? 1f : -1f;
            };
        }
        return x;
    }

    private static void assertFinite(float[] x, String what) {
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                throw new AssertionError(what + ": sample " + i + " of " + x.length + " is " + x[i]);
            }
        }
    }
}
