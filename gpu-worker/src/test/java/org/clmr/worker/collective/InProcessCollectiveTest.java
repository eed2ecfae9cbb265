package org.clmr.worker.collective;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Timeout(30)
class InProcessCollectiveTest {

    private static <T> List<T> onThreads(List<Collective> ranks, Function<Collective, T> body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(ranks.size());
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Collective c : ranks) {
                futures.add(pool.submit(() -> body.apply(c)));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get(20, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldSumGatherScatterAndBroadcastInRankOrder() throws Exception {
        List<float[][]> results = onThreads(InProcessCollective.group(3, 7, 5_000), c -> {
            int r = c.rank();
            float[] x = {r, 10 * r, 0.1f * r, 5};
            c.allReduceSum(new OpTag(7, 0, 0), x, 1, 2);
            double[] d = {r + 0.5};
            c.allReduceSum(new OpTag(7, 0, 1), d);
            float[] local = new float[r + 1];
            java.util.Arrays.fill(local, r);
            float[] gathered = c.allGather(new OpTag(7, 0, 2), local, new int[] {1, 2, 3});
            float[] own = c.reduceScatterSum(new OpTag(7, 0, 3), new float[] {1, 2, 3, 4, 5, 6}, new int[] {1, 2, 3});
            byte[] b = c.broadcast(new OpTag(7, 1, 0), r == 2 ? new byte[] {9, 8} : null, 2);
            return new float[][] {x, {(float) d[0]}, gathered, own, {b[0], b[1]}};
        });
        for (int r = 0; r < 3; r++) {
            float[][] got = results.get(r);
            assertArrayEquals(new float[] {r, 30, 0.3f, 5}, got[0], 1e-6f);
            assertEquals(4.5f, got[1][0]);
            assertArrayEquals(new float[] {0, 1, 1, 2, 2, 2}, got[2]);
            assertArrayEquals(new float[] {3, 6, 9, 12, 15, 18}, new float[] {results.get(0)[3][0],
                    results.get(1)[3][0], results.get(1)[3][1], results.get(2)[3][0], results.get(2)[3][1],
                    results.get(2)[3][2]});
            assertArrayEquals(new float[] {9, 8}, got[4]);
        }
        assertEquals(results.get(0)[0][2], results.get(2)[0][2], 0f, "bit-identical sums on every rank");
    }

    @Test
    void shouldNameTheSilentRankWhenTheDeadlinePasses() throws Exception {
        HandClock clock = new HandClock();
        List<Collective> ranks = InProcessCollective.group(2, 0, 200, clock);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> f = pool.submit(() -> ranks.get(0).allReduceSum(new OpTag(0, 0, 0), new double[1]));
            CollectiveTimeoutException t = AeronCollectiveTest.failsAtTheDeadline(clock, f, Duration.ofMillis(200));
            assertEquals(List.of(1), t.silentRanks());
            assertThrows(CollectiveTimeoutException.class, () -> ranks.get(1).allReduceSum(new OpTag(0, 0, 0), new double[1]),
                    "the group is broken: the late rank fails at once");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldRefuseRanksIssuingDifferentOperations() throws Exception {
        List<String> errors = onThreads(InProcessCollective.group(2, 0, 5_000), c -> {
            try {
                c.allReduceSum(new OpTag(0, 0, c.rank()), new double[1]);
                return "none";
            } catch (IllegalStateException e) {
                return e.getMessage();
            }
        });
        for (String e : errors) {
            assertEquals(true, e.contains("must issue the same operations"), e);
        }
    }
}
