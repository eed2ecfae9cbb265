package org.clmr.eval.probe;

import org.clmr.data.random.Rng;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabelSubsetTest {

    private static boolean[][] labels(int clips, double[] rates, long seed) {
        Rng rng = new Rng(seed);
        boolean[][] l = new boolean[clips][rates.length];
        for (int c = 0; c < clips; c++) {
            for (int t = 0; t < rates.length; t++) {
                l[c][t] = rng.bernoulli(rates[t]);
            }
        }
        return l;
    }

    @Test
    void shouldKeepTheFractionOfClipsAndOfEveryTagsPositives() {
        double[] rates = {0.5, 0.2, 0.05, 0.01};
        boolean[][] l = labels(2000, rates, 1);
        int[] subset = LabelSubset.classBalanced(l, 0.1, 42);
        assertEquals(200, subset.length);
        for (int t = 0; t < rates.length; t++) {
            int all = 0;
            int kept = 0;
            for (int c = 0; c < l.length; c++) {
                all += l[c][t] ? 1 : 0;
            }
            for (int c : subset) {
                kept += l[c][t] ? 1 : 0;
            }
            assertTrue(Math.abs(kept - 0.1 * all) <= 0.15 * 0.1 * all + 2,
                    "tag " + t + ": kept " + kept + " of " + all);
        }
    }

    @Test
    void shouldKeepAtLeastOnePositiveOfARareTagAtOnePercent() {
        boolean[][] l = labels(500, new double[] {0.3, 0.004}, 2);
        int[] subset = LabelSubset.classBalanced(l, 0.01, 3);
        boolean rare = false;
        for (int c : subset) {
            rare |= l[c][1];
        }
        assertTrue(rare);
        assertEquals(5, subset.length);
    }

    @Test
    void shouldBeDeterministicForASeedAndReturnEverythingAtFractionOne() {
        boolean[][] l = labels(300, new double[] {0.3, 0.1}, 4);
        assertArrayEquals(LabelSubset.classBalanced(l, 0.2, 9), LabelSubset.classBalanced(l, 0.2, 9));
        assertTrue(!java.util.Arrays.equals(LabelSubset.classBalanced(l, 0.2, 9), LabelSubset.classBalanced(l, 0.2, 10)));
        assertEquals(300, LabelSubset.classBalanced(l, 1.0, 9).length);
    }
}
