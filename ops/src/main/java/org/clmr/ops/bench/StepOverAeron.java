package org.clmr.ops.bench;

import ai.djl.Device;
import io.aeron.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.protocol.run.OptimizerSpec;
import org.clmr.protocol.wire.FrameKey;
import org.clmr.worker.collective.AeronCollective;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.collective.Membership;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.step.DistributedStep;
import org.clmr.worker.step.DistributedStep.Phases;
import org.clmr.worker.step.ViewPairs;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The distributed step of {@code clmr bench step --auth}: ranks as threads of this JVM, each with an Aeron client of
 * its own on one embedded media driver, exchanging over IPC as the workers of one host do. Each auth mode is a
 * generation of its own, open side by side (frames with a MAC under a fresh key, or without one); the ranks take
 * their steps alternately on each, which goes first alternating too, so that both modes see the same load. Runs on
 * the calling thread and a pool of one thread per rank.
 */
final class StepOverAeron {
    private StepOverAeron() {
    }

    /**
     * What the ranks measured, index [mode][rank].
     *
     * @param fastest each rank's fastest step (by wall-clock total) in each mode
     * @param cpuMs   each rank thread's least CPU time of a step in each mode: the MAC's work shows there, other
     *                processes' load much less than on the wall clock
     */
    record Figures(List<List<Phases>> fastest, List<List<Double>> cpuMs) {
    }

    /**
     * Each mode's per-rank figures after {@code warmup} untimed steps per mode, of {@code iterations} timed steps
     * per mode.
     */
    static Figures run(ModelSpec model, ViewPairs data, int[] shares, List<String> modes, int warmup,
                                  int iterations, double temperature, OptimizerSpec optimizer) {
        String dir = AeronTransport.freshDirectory();
        AeronSettings s = AeronSettings.from(ClmrConfig.defaults()).with(false, dir, true, "ipc")
                .withTimeouts(Duration.ofMinutes(10), Duration.ofMinutes(1), Duration.ofSeconds(30));
        FrameKey key = FrameKey.random();
        List<String> ipc = Collections.nCopies(shares.length, "ipc");
        ExecutorService pool = Executors.newFixedThreadPool(shares.length);
        List<AeronTransport> transports = new ArrayList<>();
        MediaDriver driver = AeronTransport.launchDriver(s, dir);
        try {
            List<Future<RankFigures>> futures = new ArrayList<>();
            for (int r = 0; r < shares.length; r++) {
                int rank = r;
                AeronTransport t = AeronTransport.start(s);
                transports.add(t);
                futures.add(pool.submit(() -> {
                    List<AeronCollective> generations = new ArrayList<>();
                    try {
                        for (int g = 0; g < modes.size(); g++) {
                            FrameKey k = modes.get(g).equals("on") ? key : FrameKey.NONE;
                            generations.add(t.join(new Membership(1, g, rank, ipc, k)));
                        }
                        return rank(model, data, shares, generations, warmup, iterations, temperature, optimizer);
                    } finally {
                        generations.forEach(AeronCollective::close);
                    }
                }));
            }
            List<List<Phases>> byMode = new ArrayList<>();
            List<List<Double>> cpu = new ArrayList<>();
            for (int m = 0; m < modes.size(); m++) {
                byMode.add(new ArrayList<>());
                cpu.add(new ArrayList<>());
            }
            for (Future<RankFigures> f : futures) {
                RankFigures r = f.get();
                for (int m = 0; m < modes.size(); m++) {
                    byMode.get(m).add(r.best[m]);
                    cpu.get(m).add(r.cpuNs[m] / 1e6);
                }
            }
            return new Figures(byMode, cpu);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a rank failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdownNow();
            CloseHelper.closeAll(transports);
            driver.close();  // after its clients: a client that outlives its driver reports it dead
        }
    }

    /** One rank's fastest step and least CPU time per mode. */
    private record RankFigures(Phases[] best, long[] cpuNs) {
    }

    private static RankFigures rank(ModelSpec model, ViewPairs data, int[] shares, List<AeronCollective> generations,
                                 int warmup, int iterations, double temperature,
                                 OptimizerSpec optimizer) {
        int modes = generations.size();
        try (ClmrNetwork net = ClmrNetwork.create(model, 0, Device.cpu());
             Adam adam = new Adam(optimizer, net.params())) {
            DistributedStep[] steps = new DistributedStep[modes];
            for (int m = 0; m < modes; m++) {
                steps[m] = new DistributedStep(net, adam, temperature, generations.get(m), m);
            }
            DistributedStep.ShareLoader loader = data::slice;
            Phases[] best = new Phases[modes];
            long[] cpu = new long[modes];
            java.util.Arrays.fill(cpu, Long.MAX_VALUE);
            java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long k = 0;
            for (int i = 0; i < warmup + iterations; i++) {
                for (int j = 0; j < modes; j++) {
                    int m = (i + j) % modes;
                    long cpu0 = threads.getCurrentThreadCpuTime();
                    Phases p = steps[m].run(k++, shares, loader).phases();
                    long used = threads.getCurrentThreadCpuTime() - cpu0;
                    if (i >= warmup) {
                        best[m] = best[m] == null || p.totalNs() < best[m].totalNs() ? p : best[m];
                        cpu[m] = Math.min(cpu[m], used);
                    }
                }
            }
            return new RankFigures(best, cpu);
        }
    }
}
