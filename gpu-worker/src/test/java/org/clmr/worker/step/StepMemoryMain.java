package org.clmr.worker.step;

import ai.djl.Device;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.metrics.DeviceMemory;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.NativeResources;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.train.TrainingLoop;

import java.util.List;
import java.util.stream.IntStream;

import static org.clmr.worker.step.DistributedStepTest.ADAM;
import static org.clmr.worker.step.DistributedStepTest.SEED;
import static org.clmr.worker.step.DistributedStepTest.TAU;
import static org.clmr.worker.step.DistributedStepTest.TINY;

/**
 * {@link StepMemoryTest}'s child JVM: runs {@code STEPS} tiny steps of {@code RANKS} ranks (threads) and
 * prints, per rank, one line {@code rank=R resources=A/B rss=X/Y ms=M transfers=T bytes=N}: the manager
 * tree's count and the process's resident set after warm-up and at the end, the mean step time, and the
 * transfers and bytes per step. Run with a pre-touched heap, so that RSS changes are native memory.
 */
public final class StepMemoryMain {
    private StepMemoryMain() {
    }

    public static void main(String[] args) {
        int ranks = Integer.parseInt(args[0]);
        int steps = Integer.parseInt(args[1]);
        int warmUp = Integer.parseInt(args[2]);
        int batch = Integer.parseInt(args[3]);
        TrainingLoop.useThreads(1);
        int[] shares = IntStream.range(0, ranks).map(r -> batch / ranks + (r < batch % ranks ? 1 : 0)).toArray();
        // the steps cycle through four batches made once: the data makes no garbage that the heap must hold
        List<ViewPairs> batches = IntStream.range(0, 4).mapToObj(k -> DistributedStepTest.DATA.batch(0, k)).toList();
        List<String> lines = Ranks.run(ranks, 1800, c -> run(c, shares, steps, warmUp, batches));
        lines.forEach(System.out::println);
    }

    private static String run(Collective c, int[] shares, int steps, int warmUp, List<ViewPairs> batches) {
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            // buckets of about 2,000 elements: the tiny model's gradient goes in several
            DistributedStep step = new DistributedStep(net, adam, TAU, c, 0, 2000);
            NativeResources.Count warm = null;
            long rssWarm = 0;
            Tensors.Count before = null;
            long t0 = 0;
            for (int k = 0; k < steps; k++) {
                ViewPairs all = batches.get(k % batches.size());
                DistributedStep.Result r = step.run(k, shares, all::slice);
                if (!r.applied()) {
                    throw new IllegalStateException("step " + k + " skipped: " + r.skipReason());
                }
                if (k % 125 == 124 && System.getenv("CLMR_TRACE_RSS") != null) {
                    System.err.println("rank " + c.rank() + " step " + (k + 1) + " rss "
                            + (DeviceMemory.residentSetBytes().orElseThrow() >> 10) + " KiB");
                }
                if (k == warmUp - 1) {
                    warm = NativeResources.of(net.manager());
                    rssWarm = DeviceMemory.residentSetBytes().orElseThrow();
                    before = Tensors.count();
                    t0 = System.nanoTime();
                }
            }
            NativeResources.Count end = NativeResources.of(net.manager());
            long rssEnd = DeviceMemory.residentSetBytes().orElseThrow();
            Tensors.Count moved = Tensors.count().since(before);
            int timed = steps - warmUp;
            return String.format(java.util.Locale.ROOT, "rank=%d resources=%d/%d rss=%d/%d ms=%.1f transfers=%.1f bytes=%d",
                    c.rank(), warm.total(), end.total(), rssWarm, rssEnd, (System.nanoTime() - t0) / 1e6 / timed,
                    moved.transfers() / (double) timed, moved.bytes() / timed);
        }
    }
}
