package org.clmr.ops.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.data.random.Rng;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.protocol.run.OptimizerSpec;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.InProcessCollective;
import org.clmr.worker.collective.LocalCollective;
import org.clmr.worker.loss.NtXent;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.step.DistributedStep.Phases;
import org.clmr.worker.step.DistributedStep;
import org.clmr.worker.step.ViewPairs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code clmr bench step}: the distributed step's time split into its phases (data, forward, loss,
 * communication, backward, optimizer), and the cost of segmentation: the segmented single-worker step
 * (batch norm from reduced moments, one graph per segment, statistics' gradient added analytically)
 * against an ordinary step with one autograd graph through PyTorch's own batch_norm, on the same batch.
 * With {@code --ranks R > 1} the ranks run as threads of this JVM over {@link InProcessCollective}: they
 * share this machine's cores, so their communication phase includes waiting for each other. With
 * {@code --auth on|off|on,off} they run over Aeron IPC instead (one embedded driver, a transport per rank), with
 * frame MACs on, off, or both as two generations side by side, steps alternating between them. Fastest of
 * a few iterations (other load only adds time).
 */
@Command(name = "step", mixinStandardHelpOptions = true,
        description = "Time the distributed training step by phase, and its segmentation overhead.")
public final class BenchStep implements Callable<Integer> {
    static final OptimizerSpec ADAM = new OptimizerSpec(3e-4, 0.9, 0.999, 1e-8);
    static final double TAU = 0.5;

    @Spec
    CommandSpec spec;

    @Option(names = "--preset", defaultValue = "paper", description = "model preset (default ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--projection-dim", defaultValue = "128", description = "width of z (default ${DEFAULT-VALUE})")
    int projectionDim;

    @Option(names = "--ranks", defaultValue = "2", description = "ranks (threads here) of the distributed run (default ${DEFAULT-VALUE})")
    int ranks;

    @Option(names = "--batch", defaultValue = "4", description = "global batch B, split evenly over the ranks (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--iterations", defaultValue = "5",
            description = "timed steps per figure; the fastest is reported (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--warmup", defaultValue = "2",
            description = "untimed steps first, at least; 0: no warm-up (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--max-warmup", defaultValue = "12",
            description = "untimed steps at most: warm-up goes on while a step still faults fresh heap pages in "
                    + "(default ${DEFAULT-VALUE})")
    int maxWarmup;

    @Option(names = "--threads", defaultValue = "0", description = "intra-op threads; 0: the library default (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--clock", defaultValue = "wall", converter = BenchClock.Converter.class,
            description = "what the whole-graph vs segmented comparison counts: wall (elapsed) or cpu (the CPU time of "
                    + "the stepping thread; needs --threads 1); the phases are always elapsed time (default ${DEFAULT-VALUE})")
    BenchClock clock;

    @Option(names = "--auth", defaultValue = "none",
            description = "none: ranks exchange over in-process queues; on, off or on,off: over Aeron IPC with frame"
                    + " MACs on, off, or both, alternating step by step (default ${DEFAULT-VALUE})")
    String auth;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    /** Warm-up steps the single-worker figure took to settle; the distributed ranks take as many. */
    private int settledAfter;

    @Override
    public Integer call() throws IOException {
        ModelSpec model = ModelSpec.preset(preset, projectionDim).validated();
        if (ranks < 1 || batch < ranks || iterations < 1 || warmup < 0) {
            throw new UserError("need --ranks >= 1, --batch >= --ranks, --iterations >= 1 and --warmup >= 0; got "
                    + ranks + ", " + batch + ", " + iterations + ", " + warmup);
        }
        Engine.getEngine("PyTorch");  // loads the natives before the first JNI call
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        clock.check(threads);
        List<String> modes = auth.equals("none") ? List.of("none") : BenchAllReduce.parseAuth(auth);
        if (!modes.contains("none") && ranks < 2) {
            throw new SettingsException("--auth", auth, "needs --ranks >= 2 (one rank exchanges no frames)");
        }
        ViewPairs data = gaussianBatch(model.inputLength());
        double[] whole = new double[2];
        Phases single = singleWorker(model, data, whole);
        int[] shares = shares();
        StepOverAeron.Figures distributed = ranks == 1 ? new StepOverAeron.Figures(List.of(List.of(single)), null)
                : modes.contains("none") ? new StepOverAeron.Figures(List.of(segmented(model, data, shares)), null)
                : StepOverAeron.run(model, data, shares, modes, settledAfter, iterations, TAU, ADAM);
        print(model, shares, whole[0], whole[1], single, modes, distributed);
        return 0;
    }

    private int[] shares() {
        int[] s = new int[ranks];
        for (int r = 0; r < ranks; r++) {
            s[r] = batch / ranks + (r < batch % ranks ? 1 : 0);
        }
        return s;
    }

    private ViewPairs gaussianBatch(int length) {
        Rng rng = new Rng(1);
        float[][] v = new float[2][batch * length];
        for (float[] view : v) {
            for (int i = 0; i < view.length; i++) {
                view[i] = (float) (0.3 * rng.nextGaussian());
            }
        }
        return new ViewPairs(batch, length, v[0], v[1]);
    }

    /** Each rank's phases of its fastest step (by total), ranks on threads. */
    private List<Phases> segmented(ModelSpec model, ViewPairs data, int[] shares) {
        List<Collective> world = shares.length == 1 ? List.of(new LocalCollective(0))
                : InProcessCollective.group(shares.length, 0, 600_000);
        ExecutorService pool = Executors.newFixedThreadPool(shares.length);
        try {
            List<Future<Phases>> futures = new ArrayList<>();
            for (Collective c : world) {
                futures.add(pool.submit(() -> rank(model, data, shares, c)));
            }
            List<Phases> out = new ArrayList<>();
            for (Future<Phases> f : futures) {
                out.add(f.get());
            }
            return out;
        } catch (ExecutionException e) {
            throw new IllegalStateException("a rank failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private Phases rank(ModelSpec model, ViewPairs data, int[] shares, Collective c) {
        try (ClmrNetwork net = ClmrNetwork.create(model, 0, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            DistributedStep step = new DistributedStep(net, adam, TAU, c, 0);
            DistributedStep.ShareLoader loader = data::slice;
            Phases best = null;
            // every rank takes the same steps (they are collective): as many warm-up steps as the
            // single-worker figure needed to settle
            for (int k = 0; k < settledAfter + iterations; k++) {
                Phases p = step.run(k, shares, loader).phases();
                if (k >= settledAfter && (best == null || p.totalNs() < best.totalNs())) {
                    best = p;
                }
            }
            return best;
        }
    }

    /**
     * The segmented step (world of one) and the ordinary whole-graph step on the same batch, alternately,
     * so that load from other processes weighs on both alike: the segmented step's fastest phases, the
     * ordinary step's fastest time on the clock in {@code ms[0]} and the segmented step's in {@code ms[1]}.
     */
    private Phases singleWorker(ModelSpec model, ViewPairs data, double[] ms) {
        try (ClmrNetwork net = ClmrNetwork.create(model, 0, Device.cpu());
             Adam adam = new Adam(ADAM, net.params());
             ClmrNetwork plain = ClmrNetwork.create(model, 0, Device.cpu());
             Adam plainAdam = new Adam(ADAM, plain.params())) {
            DistributedStep step = new DistributedStep(net, adam, TAU, new LocalCollective(0), 0);
            Phases best = null;
            ms[0] = Double.MAX_VALUE;
            ms[1] = Double.MAX_VALUE;
            long[] k = {0};
            settledAfter = new Warmup(warmup, maxWarmup).run(() -> {
                wholeGraphStepMs(plain, plainAdam, model, data);
                step.run(k[0]++, new int[] {batch}, (offset, count) -> data);
            });
            for (int i = 0; i < iterations; i++) {
                double w = wholeGraphStepMs(plain, plainAdam, model, data);
                long t = clock.nanos();
                Phases p = step.run(k[0]++, new int[] {batch}, (offset, count) -> data).phases();
                double s = (clock.nanos() - t) / 1e6;
                ms[0] = Math.min(ms[0], w);
                ms[1] = Math.min(ms[1], s);
                best = best == null || p.totalNs() < best.totalNs() ? p : best;
            }
            return best;
        }
    }

    /** The ordinary step: one graph per view through torch's batch_norm, NT-Xent, backward, Adam. */
    private double wholeGraphStepMs(ClmrNetwork net, Adam adam, ModelSpec model, ViewPairs data) {
        Shape shape = new Shape(batch, 1, model.inputLength());
        long t = clock.nanos();
        JniUtils.setGradMode(true);
        try (NDManager s = net.manager().newSubManager()) {
            NDArray z1 = net.forwardWholeGraph(Tensors.upload(s, data.first(), shape));
            NDArray z2 = net.forwardWholeGraph(Tensors.upload(s, data.second(), shape));
            float[] z = concat(z1.toFloatArray(), z2.toFloatArray());
            int[] anchors = new int[2 * batch];
            for (int i = 0; i < anchors.length; i++) {
                anchors[i] = i;
            }
            float[] g = NtXent.compute(z, projectionDim, anchors, NtXent.pairedPositives(new int[] {batch}),
                    2 * batch, TAU).gradient();
            int half = batch * projectionDim;
            Shape rows = new Shape(batch, projectionDim);
            JniUtils.backward((PtNDArray) z1, (PtNDArray) Tensors.upload(s, Arrays.copyOfRange(g, 0, half), rows),
                    false, false);
            JniUtils.backward((PtNDArray) z2, (PtNDArray) Tensors.upload(s, Arrays.copyOfRange(g, half, 2 * half),
                    rows), false, false);
        } finally {
            JniUtils.setGradMode(false);
        }
        // the same guard as the distributed step's, so both steps do the same work but for the segmentation
        if (Gradients.firstNonFinite(net.params()) != null) {
            throw new IllegalStateException("the whole-graph step produced a non-finite gradient");
        }
        adam.update();
        return (clock.nanos() - t) / 1e6;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static final String[] PHASES = {"data", "forward", "loss", "communication", "backward", "optimizer"};

    private static double[] ms(Phases p) {
        return new double[] {p.dataNs() / 1e6, p.forwardNs() / 1e6, p.lossNs() / 1e6, p.communicationNs() / 1e6,
                p.backwardNs() / 1e6, p.optimizerNs() / 1e6, p.totalNs() / 1e6};
    }

    private void print(ModelSpec model, int[] shares, double whole, double segmentedMs, Phases single,
                       List<String> modes, StepOverAeron.Figures figures) throws IOException {
        List<List<Phases>> byMode = figures.fastest();
        List<Phases> distributed = byMode.get(0);
        PrintWriter out = spec.commandLine().getOut();
        String clockName = clock.label();
        double overhead = 100 * (segmentedMs / whole - 1);
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("preset", model.preset());
            o.put("batch", batch);
            o.put("ranks", ranks);
            o.put("iterations", iterations);
            o.put("threads", JniUtils.getNumThreads());
            o.put("clock", clockName);
            o.put("whole_graph_step_ms", whole);
            o.put("segmented_step_ms", segmentedMs);
            o.put("segmentation_overhead_percent", overhead);
            phases(o.putObject("single_worker_ms"), single);
            o.putArray("shares").addAll(Arrays.stream(shares).mapToObj(o::numberNode).toList());
            var ranksNode = o.putArray("rank_ms");
            for (Phases p : distributed) {
                phases(ranksNode.addObject(), p);
            }
            o.put("exchange", modes.contains("none") ? "in-process" : "aeron-ipc");
            if (!modes.contains("none")) {
                ObjectNode byAuth = o.putObject("rank_ms_by_auth");
                ObjectNode cpuByAuth = o.putObject("rank_cpu_ms_by_auth");
                for (int i = 0; i < modes.size(); i++) {
                    var rows = byAuth.putArray(modes.get(i));
                    for (Phases p : byMode.get(i)) {
                        phases(rows.addObject(), p);
                    }
                    var cpu = cpuByAuth.putArray(modes.get(i));
                    figures.cpuMs().get(i).forEach(cpu::add);
                }
                if (modes.size() == 2) {
                    o.put("mac_cost_percent", macCostPercent(modes, byMode));
                    o.put("mac_cost_cpu_percent", macCostCpuPercent(modes, figures.cpuMs()));
                }
            }
            out.println(m.writeValueAsString(o));
        } else {
            out.printf("clmr bench step: preset %s, global batch %d, best of %d iterations, %d intra-op threads%n",
                    model.preset(), batch, iterations, JniUtils.getNumThreads());
            out.printf("ordinary whole-graph step %.1f ms, segmented single-worker step %.1f ms (%s clock): "
                    + "segmentation overhead %.1f%%%n", whole, segmentedMs, clockName, overhead);
            out.printf("%-22s", "ms");
            for (String p : PHASES) {
                out.printf(" %13s", p);
            }
            out.printf(" %13s%n", "total");
            row(out, "1 worker (" + batch + ")", single);
            if (ranks > 1) {
                for (int i = 0; i < modes.size(); i++) {
                    String mac = modes.get(i).equals("none") ? "" : " mac " + modes.get(i);
                    for (int r = 0; r < byMode.get(i).size(); r++) {
                        row(out, "rank " + r + "/" + ranks + " (" + shares[r] + ")" + mac, byMode.get(i).get(r));
                    }
                }
                out.println("(ranks are threads of this JVM sharing its cores: communication includes waiting for each other"
                        + (modes.contains("none") ? "" : "; they exchange over Aeron IPC, steps alternating between MAC "
                        + String.join(" and ", modes)) + ")");
                if (!modes.contains("none")) {
                    for (int i = 0; i < modes.size(); i++) {
                        out.printf("least CPU time of a step, mac %s: %s ms per rank thread%n", modes.get(i),
                                figures.cpuMs().get(i).stream().map(c -> String.format("%.1f", c)).toList());
                    }
                }
                if (modes.size() == 2) {
                    out.printf("frame MAC cost: %+.1f%% of the step's wall time (rank 0's fastest step with it / without,"
                            + " less 1), %+.1f%% of its CPU time (rank 0's least)%n", macCostPercent(modes, byMode),
                            macCostCpuPercent(modes, figures.cpuMs()));
                }
            }
        }
        out.flush();
    }

    /** Rank 0's fastest step with MACs over its fastest without, less 1, in percent. */
    private static double macCostPercent(List<String> modes, List<List<Phases>> byMode) {
        double on = byMode.get(modes.indexOf("on")).get(0).totalNs();
        double off = byMode.get(modes.indexOf("off")).get(0).totalNs();
        return 100 * (on / off - 1);
    }

    /** Rank 0's least CPU time of a step with MACs over without, less 1, in percent. */
    private static double macCostCpuPercent(List<String> modes, List<List<Double>> cpuMs) {
        return 100 * (cpuMs.get(modes.indexOf("on")).get(0) / cpuMs.get(modes.indexOf("off")).get(0) - 1);
    }

    private static void phases(ObjectNode o, Phases p) {
        double[] v = ms(p);
        for (int i = 0; i < PHASES.length; i++) {
            o.put(PHASES[i], v[i]);
        }
        o.put("total", v[PHASES.length]);
    }

    private static void row(PrintWriter out, String name, Phases p) {
        out.printf("%-22s", name);
        for (double v : ms(p)) {
            out.printf(" %13.1f", v);
        }
        out.println();
    }
}
