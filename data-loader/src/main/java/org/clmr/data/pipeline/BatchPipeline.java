package org.clmr.data.pipeline;

import org.clmr.data.DataSettings;
import org.clmr.data.ViewTransform;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.sampling.EpochPlan;
import org.clmr.protocol.run.RunSpec;
import org.clmr.protocol.UserError;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

/**
 * Assembles the two views of every track of a worker's slice of a step on background threads, ahead
 * of the trainer, with a bounded number of batches in flight.
 *
 * <h2>How a trainer uses it</h2>
 * <pre>{@code
 * PackedDataset ds = PackedDataset.open(dir, spec.sampleRate());        // one line if the rate differs
 * PretrainView view = PretrainView.of(ds, settings.concatSongs());      // train split only
 * try (BatchPipeline p = BatchPipeline.forRun(view, spec, augmentChain, settings)) {
 *     // at every step, with the current shares (they may change between steps):
 *     BatchRequest now = BatchRequest.of(epoch, step, shares, rank);
 *     Batch b = p.take(now, List.of(next1, next2));   // blocks until ready; starts the next ones
 *     // b.view0(), b.view1(): float[share * 1 * crop], [share, 1, crop]
 *     p.recycle(b);                                   // optional, once copied into tensors
 * }
 * }</pre>
 * {@link #take(BatchRequest, List)} returns the batch for {@code now} (assembling it first if nobody
 * asked for it) and then makes the pipeline work on the upcoming requests, at most {@code prefetch} of
 * them, in order; batches in flight that are no longer upcoming are dropped. So when membership changes
 * and the shares with it, the trainer simply passes the new plan's requests: stale prefetches vanish and
 * nothing is assembled twice. {@link #submit} and {@link #retainOnly} give the same control piecewise.
 *
 * <h2>Determinism</h2>
 * Every view is computed by {@link ViewSampler} from (run seed, epoch, item, view) alone, and the items
 * of a request come from {@link EpochPlan}; so a batch is bit-identical whatever the number of threads,
 * the prefetch depth, or the order in which requests were made.
 *
 * <h2>Threads</h2>
 * {@code take}, {@code submit} and {@code retainOnly} may be called from any thread (normally the
 * trainer's). The work runs on {@code threads} daemon threads named {@code clmr-data-N}, one track (both
 * views) per task, batches in the order they were requested. The time {@code take} spends waiting is
 * added to {@link #waitNanos()} and reported to the wait listener.
 */
public final class BatchPipeline implements AutoCloseable {
    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    private final ViewSampler sampler;
    private final long runSeed;
    private final int globalBatch;
    private final int items;
    private final int prefetch;
    private final ExecutorService pool;
    private final ThreadLocal<float[]> scratch;
    private final Map<BatchRequest, Pending> inFlight = new LinkedHashMap<>();
    private final Map<Integer, EpochPlan> plans = new LinkedHashMap<>();
    private final Map<Integer, ArrayDeque<float[]>> spare = new HashMap<>();
    private final LongAdder waitNanos = new LongAdder();
    private final LongAdder waits = new LongAdder();
    private volatile LongConsumer waitListener = n -> { };
    private boolean closed;

    /**
     * @param sampler     makes the views
     * @param runSeed     the run's seed (the epoch permutation's)
     * @param globalBatch B
     * @param items       items in the pre-training view
     * @param threads     background threads, at least 1
     * @param prefetch    batches in flight beyond the one being taken, at least 1
     */
    public BatchPipeline(ViewSampler sampler, long runSeed, int globalBatch, int items, int threads, int prefetch) {
        if (threads < 1 || prefetch < 1) {
            throw new IllegalArgumentException("threads " + threads + " and prefetch " + prefetch + " must be >= 1");
        }
        if (items < globalBatch) {
            throw new UserError("the pre-training view has " + items + " items, fewer than the global batch of "
                    + globalBatch + "; use a larger dataset or set clmr.run.global-batch to at most " + items);
        }
        this.sampler = sampler;
        this.runSeed = runSeed;
        this.globalBatch = globalBatch;
        this.items = items;
        this.prefetch = prefetch;
        int poolId = POOL_IDS.incrementAndGet();
        AtomicInteger threadIds = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "clmr-data-" + poolId + "-" + threadIds.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        int crop = sampler.cropLength();
        this.scratch = ThreadLocal.withInitial(() -> new float[crop]);
    }

    /**
     * The pipeline of a run: crops of {@code spec.cropLength()} samples, the run's seed and global batch,
     * threads and prefetch from {@code clmr.data.pipeline}.
     */
    public static BatchPipeline forRun(PretrainView view, RunSpec spec, ViewTransform transform, DataSettings settings) {
        ViewSampler sampler = new ViewSampler(view, spec.seed(), spec.cropLength(), transform);
        return new BatchPipeline(sampler, spec.seed(), spec.globalBatch(), view.size(), settings.pipelineThreads(),
                settings.prefetch());
    }

    /** Calls {@code listener} with the nanoseconds of every wait in {@code take} (from the taking thread). */
    public void onDataWait(LongConsumer listener) {
        this.waitListener = listener;
    }

    /** Total nanoseconds {@code take} has waited for data. */
    public long waitNanos() {
        return waitNanos.sum();
    }

    /** Number of {@code take} calls so far. */
    public long takes() {
        return waits.sum();
    }

    /** The plan of {@code epoch} (cached for the last few epochs). */
    public synchronized EpochPlan plan(int epoch) {
        EpochPlan p = plans.get(epoch);
        if (p == null) {
            p = new EpochPlan(runSeed, epoch, items, globalBatch);
            plans.put(epoch, p);
            if (plans.size() > 3) {
                plans.remove(plans.keySet().iterator().next());
            }
        }
        return p;
    }

    /**
     * Starts assembling {@code request} if it is not in flight yet and fewer than {@code prefetch + 1}
     * batches are in flight.
     *
     * @return true if the request is now in flight
     */
    public synchronized boolean submit(BatchRequest request) {
        ensureOpen();
        if (inFlight.containsKey(request)) {
            return true;
        }
        if (inFlight.size() > prefetch) {
            return false;
        }
        start(request);
        return true;
    }

    /** Drops every batch in flight that is not in {@code keep} (its remaining work is skipped). */
    public synchronized void retainOnly(Collection<BatchRequest> keep) {
        Set<BatchRequest> k = new HashSet<>(keep);
        for (Iterator<Map.Entry<BatchRequest, Pending>> it = inFlight.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<BatchRequest, Pending> e = it.next();
            if (!k.contains(e.getKey())) {
                e.getValue().cancelled = true;
                it.remove();
            }
        }
    }

    /**
     * Gives a taken batch's view arrays back for reuse by a later batch of the same share, once the
     * caller has copied them (e.g. into the model's tensors); the batch must not be read afterwards.
     * Optional: without it every batch gets new arrays.
     */
    public synchronized void recycle(Batch batch) {
        ArrayDeque<float[]> q = spare.computeIfAbsent(batch.view0().length, k -> new ArrayDeque<>());
        int max = 2 * (prefetch + 2);
        if (q.size() + 2 <= max) {
            q.push(batch.view0());
            q.push(batch.view1());
        }
    }

    private float[] array(int length) {
        ArrayDeque<float[]> q = spare.get(length);
        return q == null || q.isEmpty() ? new float[length] : q.pop();
    }

    /** Batches in flight (assembling or assembled, not yet taken). */
    public synchronized int inFlight() {
        return inFlight.size();
    }

    /** {@link #take(BatchRequest, List)} with nothing upcoming. */
    public Batch take(BatchRequest request) {
        return take(request, List.of());
    }

    /**
     * Returns the batch for {@code request}, waiting for it if needed, then keeps only {@code upcoming}
     * in flight and starts the first {@code prefetch} of them.
     *
     * @throws IllegalArgumentException when the request lies outside its epoch or the batch
     * @throws UserError when reading or transforming a view failed
     */
    public Batch take(BatchRequest request, List<BatchRequest> upcoming) {
        long t0 = System.nanoTime();
        Pending p;
        synchronized (this) {
            ensureOpen();
            p = inFlight.remove(request);
            if (p == null) {
                p = start(request);
                inFlight.remove(request);
            }
            List<BatchRequest> next = new ArrayList<>(upcoming.subList(0, Math.min(prefetch, upcoming.size())));
            next.remove(request);
            retainOnly(next);
            for (BatchRequest r : next) {
                if (!inFlight.containsKey(r)) {
                    start(r);
                }
            }
        }
        Batch b = p.await();
        long waited = System.nanoTime() - t0;
        waitNanos.add(waited);
        waits.increment();
        waitListener.accept(waited);
        return b;
    }

    private Pending start(BatchRequest r) {
        int[] slice = plan(r.epoch()).slice(r.step(), r.offsetInBatch(), r.share());
        int crop = sampler.cropLength();
        Pending p = new Pending(r, slice, crop, array(slice.length * crop), array(slice.length * crop));
        inFlight.put(r, p);
        for (int i = 0; i < slice.length; i++) {
            int row = i;
            pool.execute(() -> p.fill(row));
        }
        return p;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("batch pipeline closed");
        }
    }

    /** Stops the threads; batches in flight are dropped. */
    @Override
    public synchronized void close() {
        closed = true;
        inFlight.values().forEach(p -> p.cancelled = true);
        inFlight.clear();
        pool.shutdownNow();
    }

    /** A batch being assembled: rows are filled by pool threads, the taker waits on the count. */
    private final class Pending {
        private final BatchRequest request;
        private final int[] items;
        private final long[][] offsets;
        private final float[] view0;
        private final float[] view1;
        private final int crop;
        private int left;
        private Throwable failure;
        volatile boolean cancelled;

        Pending(BatchRequest request, int[] items, int crop, float[] view0, float[] view1) {
            this.request = request;
            this.items = items;
            this.crop = crop;
            this.offsets = new long[2][items.length];
            this.view0 = view0;
            this.view1 = view1;
            this.left = items.length;
        }

        void fill(int row) {
            Throwable err = null;
            if (!cancelled) {
                try {
                    float[] s = scratch.get();
                    offsets[0][row] = sampler.make(request.epoch(), items[row], 0, s);
                    System.arraycopy(s, 0, view0, row * crop, crop);
                    offsets[1][row] = sampler.make(request.epoch(), items[row], 1, s);
                    System.arraycopy(s, 0, view1, row * crop, crop);
                } catch (RuntimeException | Error e) {
                    err = e;
                }
            }
            synchronized (this) {
                if (err != null && failure == null) {
                    failure = err;
                }
                if (--left == 0) {
                    notifyAll();
                }
            }
        }

        synchronized Batch await() {
            while (left > 0) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for batch " + request, e);
                }
            }
            if (failure != null) {
                throw new UserError("could not assemble batch " + request + ": " + (failure instanceof UserError
                        ? failure.getMessage() : failure.toString()), failure);
            }
            return new Batch(request, items, offsets, view0, view1, crop);
        }
    }
}
