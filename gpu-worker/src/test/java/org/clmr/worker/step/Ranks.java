package org.clmr.worker.step;

import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.InProcessCollective;
import org.clmr.worker.collective.LocalCollective;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/** Runs one body per rank, each on its own thread with its own collective; a world of one uses LocalCollective. */
final class Ranks {
    private Ranks() {
    }

    static <T> List<T> run(int worldSize, Function<Collective, T> body) {
        return run(worldSize, 120, body);
    }

    /** As {@link #run(int, Function)}, waiting up to {@code seconds} for the ranks. */
    static <T> List<T> run(int worldSize, long seconds, Function<Collective, T> body) {
        List<Collective> collectives = worldSize == 1 ? List.of(new LocalCollective(0))
                : InProcessCollective.group(worldSize, 0, 60_000);
        ExecutorService pool = Executors.newFixedThreadPool(worldSize);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Collective c : collectives) {
                futures.add(pool.submit(() -> body.apply(c)));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(seconds, TimeUnit.SECONDS));
            }
            return results;
        } catch (ExecutionException e) {
            throw new AssertionError("a rank failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("ranks did not finish: " + e, e);
        } finally {
            pool.shutdownNow();
        }
    }
}
