package org.clmr.worker.step;

import ai.djl.engine.Engine;
import io.aeron.driver.MediaDriver;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.Membership;
import org.clmr.protocol.wire.FrameKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The distributed step over the real transport: two ranks (threads) over Aeron IPC on one media driver
 * end with exactly the bits of the same split over InProcessCollective, since both sum in rank order.
 */
@Timeout(120)
class DistributedStepAeronTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void loadEngine() {
        Engine.getEngine("PyTorch");
    }

    @Test
    void shouldTakeTheSameStepOverAeronAsInProcess() throws Exception {
        int[] shares = {5, 3};
        List<DistributedStepTest.RankResult> inProcess = DistributedStepTest.train(shares);
        String dir = tmp.resolve("driver").toString();
        AeronSettings s = AeronSettings.from(ClmrConfig.defaults()).withSizes(1 << 20, 4096)
                .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(10))
                .with(false, dir, true, "ipc");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (MediaDriver driver = AeronTransport.launchDriver(s, dir);
             AeronTransport t0 = AeronTransport.start(s);
             AeronTransport t1 = AeronTransport.start(s)) {
            List<AeronTransport> transports = List.of(t0, t1);
            FrameKey key = FrameKey.random();
            List<Future<DistributedStepTest.RankResult>> futures = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (Collective c = transports.get(rank).join(new Membership(5, 0, rank, List.of("ipc", "ipc"), key))) {
                        return DistributedStepTest.rank(c, shares);
                    }
                }));
            }
            for (int r = 0; r < 2; r++) {
                DistributedStepTest.RankResult aeron = futures.get(r).get(100, TimeUnit.SECONDS);
                DistributedStepTest.RankResult local = inProcess.get(r);
                assertArrayEquals(local.losses(), aeron.losses(), 0.0);
                assertEquals(local.fingerprint(), aeron.fingerprint(), "rank " + r + " holds the same bits");
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
