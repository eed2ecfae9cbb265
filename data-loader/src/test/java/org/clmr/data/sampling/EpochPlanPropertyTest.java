package org.clmr.data.sampling;

import org.clmr.data.random.Rng;
import org.clmr.protocol.fuzz.Property;
import org.clmr.protocol.fuzz.Shrinking.Dim;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The exactly-once rule over any item count, global batch and sequence of share splits (the ranks and their
 * shares change at any step): the ranks' slices of a step cover the step's positions exactly once, in rank order,
 * and no item is taken twice in an epoch.
 */
class EpochPlanPropertyTest {

    @Test
    void shouldUseEveryPositionOfAStepExactlyOnceWhateverTheShares() {
        List<Dim> dims = List.of(Dim.of("runSeed", Long.MIN_VALUE, Long.MAX_VALUE), Dim.of("epoch", 0, Integer.MAX_VALUE),
                Dim.log("items", 1, 100_000), Dim.log("globalBatch", 1, 4096), Dim.of("sharesSeed", 0, Long.MAX_VALUE),
                Dim.log("maxRanks", 1, 64));
        Property.forAll("epoch plan", dims, 200, v -> {
            EpochPlan plan = new EpochPlan(v[0], (int) v[1], (int) v[2], (int) v[3]);
            int batch = plan.globalBatch();
            assertEquals(plan.items() / batch, plan.stepsPerEpoch());
            boolean[] taken = new boolean[plan.items()];
            Rng shares = new Rng(v[4]);
            for (int step = 0; step < plan.stepsPerEpoch(); step++) {
                int[] split = split(batch, 1 + shares.nextInt((int) v[5]), shares);
                int at = 0;
                int[] whole = plan.slice(step, 0, batch);
                for (int rank = 0; rank < split.length; rank++) {
                    int[] slice = plan.slice(step, split, rank);
                    assertEquals(split[rank], slice.length);
                    for (int item : slice) {
                        assertEquals(whole[at++], item, "rank " + rank + " of shares " + java.util.Arrays.toString(split));
                        if (taken[item]) {
                            throw new AssertionError("item " + item + " taken twice in epoch, step " + step);
                        }
                        taken[item] = true;
                    }
                }
                assertEquals(batch, at);
            }
            assertArrayEquals(plan.order(), new EpochPlan(v[0], (int) v[1], (int) v[2], (int) v[3]).order());
        });
    }

    /** A split of {@code batch} into {@code ranks} shares (some may be zero). */
    static int[] split(int batch, int ranks, Rng rng) {
        int[] s = new int[ranks];
        int left = batch;
        for (int r = 0; r < ranks - 1; r++) {
            s[r] = rng.nextInt(left + 1);
            left -= s[r];
        }
        s[ranks - 1] = left;
        return s;
    }
}
