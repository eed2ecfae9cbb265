package org.clmr.worker.train;

import ai.djl.Device;
import com.typesafe.config.Config;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.InProcessCollective;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fingerprint a step reports: the weights' own at the end of a plan, a chain of the steps inside it,
 * equal on every rank step by step.
 */
@Timeout(180)
class StateFingerprintTest {

    @Test
    void shouldReportTheWeightsAtAPlansEndAndTheSameChainOnEveryRankInside() throws Exception {
        Config c = TrainerTest.config();
        RunSpec spec = RunSpec.from(c);
        List<Collective> world = InProcessCollective.group(2, 1, 60_000);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<List<String>>> ranks = new ArrayList<>();
            for (Collective col : world) {
                ranks.add(pool.submit(() -> {
                    List<String> seen = new ArrayList<>();
                    try (TrainingLoop loop = new TrainingLoop(spec, TrainerTest.tones(spec), 2, Device.cpu(),
                            r -> seen.add(r.fingerprint()))) {
                        loop.join(col, 1, new int[] {2, 2});
                        loop.run(new Plan(1, 0, 3), () -> false);
                        seen.add(loop.network().fingerprint());
                        loop.run(new Plan(1, 3, 5), () -> false);
                        seen.add(loop.network().fingerprint());
                    }
                    return seen;
                }));
            }
            List<String> a = ranks.get(0).get(150, TimeUnit.SECONDS);
            List<String> b = ranks.get(1).get(150, TimeUnit.SECONDS);
            assertEquals(a, b, "every rank reports the same fingerprints");
            // steps 1, 2, 3 | weights after 3 | steps 4, 5 | weights after 5
            assertTrue(a.get(0).startsWith("chain:") && a.get(1).startsWith("chain:"), a.toString());
            assertNotEquals(a.get(0), a.get(1));
            assertEquals(a.get(3), a.get(2), "the plan's last step reports the weights' fingerprint");
            assertTrue(a.get(4).startsWith("chain:"));
            assertEquals(a.get(6), a.get(5));
        } finally {
            pool.shutdownNow();
        }
    }
}
