package org.clmr.worker.collective;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class CommThreadTest {

    @Test
    void shouldRunOperationsOnItsOwnThreadInSubmissionOrder() {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        CommThread comm = CommThread.start(new LocalCollective(0), "comm-test", 2);
        List<CommThread.Ticket<Integer>> tickets = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int n = i;
            tickets.add(comm.submit(c -> {
                seen.add(Thread.currentThread().getName() + " " + n);
                return n * n;
            }));
        }
        for (int i = 0; i < 10; i++) {
            assertEquals(i * i, tickets.get(i).await());
        }
        comm.close();
        assertEquals(10, comm.completed());
        for (int i = 0; i < 10; i++) {
            assertEquals("comm-test " + i, seen.get(i));
        }
    }

    @Test
    void shouldFailEveryLaterOperationWithTheFirstFailureWithoutRunningIt() {
        CommThread comm = CommThread.start(new LocalCollective(0), "comm-test", 8);
        IllegalStateException boom = new IllegalStateException("peer lost");
        boolean[] ran = new boolean[1];
        CommThread.Ticket<Object> first = comm.submit(c -> {
            throw boom;
        });
        CommThread.Ticket<Object> second = comm.submit(c -> ran[0] = true);
        assertSame(boom, assertThrows(IllegalStateException.class, first::await));
        assertSame(boom, assertThrows(IllegalStateException.class, second::await));
        assertSame(boom, assertThrows(IllegalStateException.class, comm.submit(c -> 1)::await));
        comm.close();
        assertFalse(ran[0]);
    }

    @Test
    void shouldFailWhatHasNotStartedWhenCancelledAndWaitForWhatHas() throws Exception {
        CommThread comm = CommThread.start(new LocalCollective(0), "comm-test", 8);
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        boolean[] ran = new boolean[1];
        CommThread.Ticket<String> inProgress = comm.submit(c -> {
            running.countDown();
            await(release);
            return "done";
        });
        CommThread.Ticket<Object> queued = comm.submit(c -> ran[0] = true);
        assertTrue(running.await(10, TimeUnit.SECONDS));
        Thread canceller = new Thread(comm::cancel);
        canceller.start();
        while (canceller.getState() != Thread.State.WAITING && canceller.isAlive()) {
            Thread.onSpinWait();
        }
        assertTrue(canceller.isAlive(), "cancel waits for the operation in progress");
        release.countDown();
        canceller.join(10_000);
        assertFalse(canceller.isAlive());
        assertEquals("done", inProgress.await());
        assertThrows(CollectiveException.class, queued::await);
        assertFalse(ran[0]);
    }

    /** Two ranks, each with its communication thread, all-reduce over a real in-process world. */
    @Test
    void shouldGiveEveryRankTheSameSumsThroughItsThread() throws Exception {
        List<Collective> world = InProcessCollective.group(2, 3, 10_000);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (Collective c : world) {
                results.add(pool.submit(() -> {
                    CommThread comm = CommThread.start(c, "comm-" + c.rank(), 4);
                    float[] a = {c.rank() + 1, 0.5f};
                    float[] b = {10f * (c.rank() + 1)};
                    CommThread.Ticket<float[]> ta = comm.submit(x -> {
                        x.allReduceSum(new OpTag(3, 0, 0), a, 0, a.length);
                        return a;
                    });
                    CommThread.Ticket<float[]> tb = comm.submit(x -> {
                        x.allReduceSum(new OpTag(3, 0, 1), b, 0, b.length);
                        return b;
                    });
                    float[] out = {ta.await()[0], ta.await()[1], tb.await()[0]};
                    comm.close();
                    return out;
                }));
            }
            for (Future<float[]> f : results) {
                assertArrayEquals(new float[] {3, 1, 30}, f.get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
