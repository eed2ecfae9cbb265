package org.clmr.data.sampling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.random.Rng;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EpochPlanTest {

    @Test
    void shouldBeAPermutationFixedBySeedAndEpoch() {
        EpochPlan a = new EpochPlan(42, 3, 1000, 96);
        int[] sorted = a.order();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        assertArrayEquals(a.order(), new EpochPlan(42, 3, 1000, 96).order());
        assertFalse(Arrays.equals(a.order(), new EpochPlan(42, 4, 1000, 96).order()));
        assertFalse(Arrays.equals(a.order(), new EpochPlan(43, 3, 1000, 96).order()));
        assertEquals(10, a.stepsPerEpoch());
    }

    /** Fixture from src/test/scripts/make_epoch_order.py, an independent implementation of the PRNG. */
    @Test
    void shouldDrawTheOrderAndCropOffsetsAnIndependentImplementationDraws() throws IOException {
        JsonNode fixture;
        try (InputStream in = getClass().getResourceAsStream("epoch-order.json")) {
            fixture = new ObjectMapper().readTree(in);
        }
        for (JsonNode c : fixture.path("permutations")) {
            int[] expected = new int[c.path("order").size()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = c.path("order").get(i).asInt();
            }
            EpochPlan plan = new EpochPlan(c.path("seed").asLong(), c.path("epoch").asInt(), c.path("items").asInt(), 4);
            assertArrayEquals(expected, plan.order(), c.toString());
        }
        for (JsonNode c : fixture.path("cropOffsets")) {
            long offset = Rng.of(c.path("seed").asLong(), c.path("epoch").asInt(), c.path("item").asInt(),
                    c.path("view").asInt()).nextLong(c.path("bound").asLong());
            assertEquals(c.path("offset").asLong(), offset, c.toString());
        }
    }

    @Test
    void shouldUseEveryPositionExactlyOnceWhateverTheShareChangesBetweenSteps() {
        Rng chaos = new Rng(2024);
        for (int trial = 0; trial < 200; trial++) {
            int b = 2 + chaos.nextInt(40);
            int n = b + chaos.nextInt(400);
            EpochPlan plan = new EpochPlan(trial, trial % 5, n, b);
            int[] seen = new int[n];
            for (int step = 0; step < plan.stepsPerEpoch(); step++) {
                int[] shares = randomShares(chaos, b);
                int[] batch = new int[0];
                for (int r = 0; r < shares.length; r++) {
                    int[] slice = plan.slice(step, shares, r);
                    assertEquals(shares[r], slice.length);
                    for (int item : slice) {
                        seen[item]++;
                    }
                    batch = concat(batch, slice);
                }
                assertArrayEquals(plan.slice(step, 0, b), batch, "ranks' slices make up the step in rank order");
            }
            int used = 0;
            for (int c : seen) {
                assertEquals(true, c <= 1, "an item was used twice in an epoch");
                used += c;
            }
            assertEquals(plan.stepsPerEpoch() * b, used);
        }
    }

    @Test
    void shouldRefuseSharesThatDoNotMakeTheGlobalBatch() {
        EpochPlan p = new EpochPlan(1, 0, 100, 10);
        assertThrows(IllegalArgumentException.class, () -> p.slice(0, new int[] {4, 5}, 0));
        assertThrows(IllegalArgumentException.class, () -> p.slice(0, new int[] {12, -2}, 0));
        assertThrows(IllegalArgumentException.class, () -> p.slice(10, new int[] {10}, 0));
    }

    /** One to six ranks, shares >= 1 summing to b (a rank may hold any positive share). */
    static int[] randomShares(Rng rng, int b) {
        int ranks = 1 + rng.nextInt(Math.min(6, b));
        int[] cuts = new int[ranks - 1];
        boolean[] used = new boolean[b];
        for (int i = 0; i < cuts.length; i++) {
            int c;
            do {
                c = 1 + rng.nextInt(b - 1);
            } while (used[c]);
            used[c] = true;
            cuts[i] = c;
        }
        Arrays.sort(cuts);
        int[] shares = new int[ranks];
        int prev = 0;
        for (int i = 0; i < cuts.length; i++) {
            shares[i] = cuts[i] - prev;
            prev = cuts[i];
        }
        shares[ranks - 1] = b - prev;
        return shares;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
