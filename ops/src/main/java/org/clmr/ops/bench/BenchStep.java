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
import org.clmr.worker.collective.LocalCollective;
import org.clmr.worker.loss.DeviceNtXent;
import org.clmr.worker.metrics.DeviceMemory;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.NativeResources;
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
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.ToDoubleFunction;

/**
 * {@code clmr bench step}: the distributed step's time split into its phases (data, forward, loss,
 * communication, backward, optimizer), what it moves (host-device transfers and their bytes, collectives,
 * of which batch-norm exchanges, gradient buckets), the share of the step the training thread waits for
 * collectives (the communication the gradient buckets do not hide), the process's memory growth over the
 * timed steps, and the cost of segmentation: the segmented single-worker step (batch norm from reduced
 * moments, one graph per segment, statistics' gradient added analytically) against an ordinary step with one
 * autograd graph through PyTorch's own batch_norm, on the same batch. With {@code --ranks R > 1} the ranks run
 * as threads of this JVM ({@link StepWorld}: in-process exchange, Aeron IPC or Aeron UDP): they share this
 * machine's cores, so their communication phase includes waiting for each other. Over Aeron, {@code --auth}
 * says whether frames carry a MAC (on, the default, as in a cluster), or not (off), or both ({@code on,off}):
 * two generations on the same transports, the ranks' steps alternating between them so that other load weighs
 * on both alike, and the MAC's cost is rank 0's step with it over without, on the wall clock and in CPU time
 * (the rank thread's and its communication thread's, where the frames are signed and checked). Phases are
 * those of the fastest of a few iterations and CPU time the least (other load only adds time); the rest are
 * means over the timed steps.
 */
@Command(name = "step", mixinStandardHelpOptions = true,
        description = "Time the distributed training step by phase, and its segmentation overhead.")
public final class BenchStep implements Callable<Integer> {
    private static final OptimizerSpec ADAM = new OptimizerSpec(3e-4, 0.9, 0.999, 1e-8);
    private static final double TAU = 0.5;

    @Spec
    CommandSpec spec;

    @Option(names = "--preset", defaultValue = "paper", description = "model preset (default ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--projection-dim", defaultValue = "128", description = "width of z (default ${DEFAULT-VALUE})")
    int projectionDim;

    @Option(names = "--ranks", defaultValue = "2", description = "ranks (threads here) of the distributed run (default ${DEFAULT-VALUE})")
    int ranks;

    @Option(names = "--transport", defaultValue = "inproc",
            description = "what the ranks exchange over: inproc (no Aeron), ipc (Aeron, one media driver) or udp (Aeron on"
                    + " loopback, a driver per rank) (default ${DEFAULT-VALUE})")
    String transport;

    @Option(names = "--bucket-elements", defaultValue = "" + DistributedStep.DEFAULT_BUCKET_ELEMENTS,
            description = "gradient elements per all-reduce bucket (default ${DEFAULT-VALUE})")
    int bucketElements;

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

    @Option(names = "--auth",
            description = "frame MACs over an Aeron transport (ipc or udp, --ranks >= 2): on, off, or on,off (both, a"
                    + " generation each, steps alternating between them; the first named is the main figure)"
                    + " (default: on)")
    String auth;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    /** Warm-up steps the single-worker figure took to settle; the distributed ranks take as many. */
    private int settledAfter;

    @Override
    public Integer call() throws IOException {
        ModelSpec model = ModelSpec.preset(preset, projectionDim).validated();
        if (ranks < 1 || batch < ranks || iterations < 1 || warmup < 0 || bucketElements < 1) {
            throw new UserError("need --ranks >= 1, --batch >= --ranks, --iterations >= 1, --warmup >= 0 and"
                    + " --bucket-elements >= 1; got " + ranks + ", " + batch + ", " + iterations + ", " + warmup + ", "
                    + bucketElements);
        }
        if (!StepWorld.TRANSPORTS.contains(transport)) {
            throw new UserError("--transport " + transport + " is not one of " + String.join(", ", StepWorld.TRANSPORTS));
        }
        List<String> modes = authModes();
        Engine.getEngine("PyTorch");  // loads the natives before the first JNI call
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        clock.check(threads);
        ViewPairs data = gaussianBatch(model.inputLength());
        double[] whole = new double[2];
        Memory singleMemory = new Memory();
        StepFigures single = singleWorker(model, data, whole, singleMemory);
        int[] shares = shares();
        Memory memory = singleMemory;
        List<List<StepFigures>> distributed = List.of(List.of(single));
        String world = "one rank";
        if (ranks > 1) {
            memory = new Memory();
            try (StepWorld w = StepWorld.open(transport, ranks, modes)) {
                distributed = segmented(model, data, shares, w, memory);
                world = w.describe();
            }
        }
        print(model, shares, whole[0], whole[1], single, modes, distributed, world, memory);
        return 0;
    }

    /**
     * The frame-MAC modes to run, in order, checked before anything is timed: {@code --auth}'s, {@code on} when
     * it is not given; none when the ranks exchange no Aeron frames, where giving it is an error.
     */
    private List<String> authModes() {
        if (StepWorld.framed(transport, ranks)) {
            return auth == null ? List.of("on") : BenchAllReduce.parseAuth(auth);
        }
        if (auth != null) {
            throw new SettingsException("--auth", auth + " needs --ranks >= 2 and --transport ipc or udp (ranks that"
                    + " exchange Aeron frames); got --ranks " + ranks + " and --transport " + transport);
        }
        return List.of();
    }

    /** The process's resident set and rank 0's managed native resources before and after the timed steps. */
    static final class Memory {
        long rssBefore;
        long rssAfter;
        int resourcesBefore;
        int resourcesAfter;

        void before(ClmrNetwork net) {
            resourcesBefore = NativeResources.of(net.manager()).total();
            rssBefore = DeviceMemory.residentSetBytes().orElse(0);
        }

        void after(ClmrNetwork net) {
            resourcesAfter = NativeResources.of(net.manager()).total();
            rssAfter = DeviceMemory.residentSetBytes().orElse(0);
        }
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

    /** Each rank's figures in each generation, index [generation][rank], ranks on threads of {@code world}. */
    private List<List<StepFigures>> segmented(ModelSpec model, ViewPairs data, int[] shares, StepWorld world,
                                              Memory memory) {
        ExecutorService pool = Executors.newFixedThreadPool(shares.length);
        try {
            List<Future<StepFigures[]>> futures = new ArrayList<>();
            for (int r = 0; r < shares.length; r++) {
                int rank = r;
                futures.add(pool.submit(() -> rank(model, data, shares, world.join(rank), memory)));
            }
            List<List<StepFigures>> out = new ArrayList<>();
            for (int g = 0; g < world.generations(); g++) {
                out.add(new ArrayList<>());
            }
            for (Future<StepFigures[]> f : futures) {
                StepFigures[] byGeneration = f.get();
                for (int g = 0; g < byGeneration.length; g++) {
                    out.get(g).add(byGeneration[g]);
                }
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

    /** One rank's figures in each of its {@code generations}, on the rank's thread. */
    private StepFigures[] rank(ModelSpec model, ViewPairs data, int[] shares, List<Collective> generations,
                               Memory memory) {
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        int n = generations.size();
        boolean rankZero = generations.get(0).rank() == 0;
        try (ClmrNetwork net = ClmrNetwork.create(model, 0, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            CpuCountingCollective[] counted = new CpuCountingCollective[n];
            DistributedStep[] steps = new DistributedStep[n];
            StepFigures[] figures = new StepFigures[n];
            for (int g = 0; g < n; g++) {
                counted[g] = new CpuCountingCollective(generations.get(g));
                steps[g] = new DistributedStep(net, adam, TAU, counted[g], g, bucketElements);
                figures[g] = new StepFigures();
            }
            DistributedStep.ShareLoader loader = data::slice;
            long step = 0;
            // every rank takes the same steps (they are collective): as many warm-up rounds as the single-worker
            // figure needed to settle; a round takes a step in each generation, which goes first rotating, so
            // that other load weighs on every generation alike
            for (int k = 0; k < settledAfter + iterations; k++) {
                if (k == settledAfter && rankZero) {
                    memory.before(net);
                }
                for (int j = 0; j < n; j++) {
                    int g = (k + j) % n;
                    long cpu = BenchClock.CPU.nanos();
                    DistributedStep.Result r = steps[g].run(step++, shares, loader);
                    cpu = BenchClock.CPU.nanos() - cpu + counted[g].takeOffThreadNanos();
                    if (k >= settledAfter) {
                        figures[g].add(r, cpu);
                    }
                }
            }
            if (rankZero) {
                memory.after(net);
            }
            return figures;
        }
    }

    /**
     * The segmented step (world of one) and the ordinary whole-graph step on the same batch, alternately,
     * so that load from other processes weighs on both alike: the segmented step's figures, the ordinary
     * step's fastest time on the clock in {@code ms[0]} and the segmented step's in {@code ms[1]}.
     */
    private StepFigures singleWorker(ModelSpec model, ViewPairs data, double[] ms, Memory memory) {
        try (ClmrNetwork net = ClmrNetwork.create(model, 0, Device.cpu());
             Adam adam = new Adam(ADAM, net.params());
             ClmrNetwork plain = ClmrNetwork.create(model, 0, Device.cpu());
             Adam plainAdam = new Adam(ADAM, plain.params())) {
            DistributedStep step = new DistributedStep(net, adam, TAU, new LocalCollective(0), 0, bucketElements);
            StepFigures figures = new StepFigures();
            ms[0] = Double.MAX_VALUE;
            ms[1] = Double.MAX_VALUE;
            long[] k = {0};
            settledAfter = new Warmup(warmup, maxWarmup).run(() -> {
                wholeGraphStepMs(plain, plainAdam, model, data);
                step.run(k[0]++, new int[] {batch}, (offset, count) -> data);
            });
            memory.before(net);
            for (int i = 0; i < iterations; i++) {
                double w = wholeGraphStepMs(plain, plainAdam, model, data);
                long cpu = BenchClock.CPU.nanos();
                long t = clock.nanos();
                DistributedStep.Result r = step.run(k[0]++, new int[] {batch}, (offset, count) -> data);
                double s = (clock.nanos() - t) / 1e6;
                ms[0] = Math.min(ms[0], w);
                ms[1] = Math.min(ms[1], s);
                figures.add(r, BenchClock.CPU.nanos() - cpu);
            }
            memory.after(net);
            return figures;
        }
    }

    /** The ordinary step: one graph per view through torch's batch_norm, NT-Xent, backward, Adam. */
    private double wholeGraphStepMs(ClmrNetwork net, Adam adam, ModelSpec model, ViewPairs data) {
        Shape shape = new Shape(batch, 1, model.inputLength());
        long t = clock.nanos();
        JniUtils.setGradMode(true);
        try (NDManager s = net.manager().newSubManager()) {
            List<NDArray> x = Tensors.uploadRows(s, List.of(data.first(), data.second()), shape);
            NDArray z1 = net.forwardWholeGraph(x.get(0));
            NDArray z2 = net.forwardWholeGraph(x.get(1));
            DeviceNtXent.Views l = DeviceNtXent.ofViews(z1, z2, TAU);
            JniUtils.backward((PtNDArray) z1, (PtNDArray) l.gradients().get(0), false, false);
            JniUtils.backward((PtNDArray) z2, (PtNDArray) l.gradients().get(1), false, false);
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

    private static final String[] PHASES = {"data", "forward", "loss", "communication", "backward", "optimizer"};

    private static double[] ms(Phases p) {
        return new double[] {p.dataNs() / 1e6, p.forwardNs() / 1e6, p.lossNs() / 1e6, p.communicationNs() / 1e6,
                p.backwardNs() / 1e6, p.optimizerNs() / 1e6, p.totalNs() / 1e6};
    }

    private void print(ModelSpec model, int[] shares, double whole, double segmentedMs, StepFigures single,
                       List<String> modes, List<List<StepFigures>> distributed, String world, Memory memory)
            throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(json(model, shares, whole, segmentedMs, single, modes, distributed, world, memory));
            out.flush();
            return;
        }
        out.printf("clmr bench step: preset %s, global batch %d, best of %d iterations, %d intra-op threads, %s%n",
                model.preset(), batch, iterations, JniUtils.getNumThreads(), world);
        out.printf("ordinary whole-graph step %.1f ms, segmented single-worker step %.1f ms (%s clock): "
                + "segmentation overhead %.1f%%%n", whole, segmentedMs, clock.label(), 100 * (segmentedMs / whole - 1));
        out.printf("%-22s", "ms");
        for (String p : PHASES) {
            out.printf(" %13s", p);
        }
        out.printf(" %13s%n", "total");
        row(out, "1 worker (" + batch + ")", single.best());
        if (ranks > 1) {
            for (int g = 0; g < distributed.size(); g++) {
                for (int r = 0; r < ranks; r++) {
                    row(out, "rank " + r + "/" + ranks + " (" + shares[r] + ")" + mac(modes, g),
                            distributed.get(g).get(r).best());
                }
            }
            out.println("(ranks are threads of this JVM sharing its cores: communication includes waiting for each other)");
        }
        out.println("per step, 1 worker: " + single.line());
        for (int g = 0; ranks > 1 && g < distributed.size(); g++) {
            for (int r = 0; r < ranks; r++) {
                out.println("per step, rank " + r + mac(modes, g) + ": " + distributed.get(g).get(r).line());
            }
        }
        for (int g = 0; ranks > 1 && g < distributed.size(); g++) {
            out.printf("least CPU time of a step%s: %s ms per rank (its thread and its communication thread)%n",
                    mac(modes, g).isEmpty() ? "" : "," + mac(modes, g), distributed.get(g).stream()
                            .map(f -> String.format(Locale.ROOT, "%.1f", f.leastCpuMs())).toList());
        }
        if (modes.size() == 2) {
            out.printf("frame MAC cost: %+.1f%% of the step's wall time (rank 0's fastest step with it / without,"
                    + " less 1), %+.1f%% of its CPU time (rank 0's least)%n",
                    macCostPercent(modes, distributed, f -> f.best().totalNs()),
                    macCostPercent(modes, distributed, StepFigures::leastCpuMs));
        }
        out.printf("over the timed steps: resident set %+.1f MB, managed native resources %+d%n",
                (memory.rssAfter - memory.rssBefore) / 1e6, memory.resourcesAfter - memory.resourcesBefore);
        out.flush();
    }

    /** The figures as one JSON object; the main generation's (the first mode named) at the top level. */
    private String json(ModelSpec model, int[] shares, double whole, double segmentedMs, StepFigures single,
                        List<String> modes, List<List<StepFigures>> distributed, String world, Memory memory)
            throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("preset", model.preset());
        o.put("batch", batch);
        o.put("ranks", ranks);
        o.put("transport", transport);
        o.putArray("auth").addAll(modes.stream().map(o::textNode).toList());
        o.put("ranks_run_as", world);
        o.put("bucket_elements", bucketElements);
        o.put("iterations", iterations);
        o.put("threads", JniUtils.getNumThreads());
        o.put("clock", clock.label());
        o.put("whole_graph_step_ms", whole);
        o.put("segmented_step_ms", segmentedMs);
        o.put("segmentation_overhead_percent", 100 * (segmentedMs / whole - 1));
        phases(o.putObject("single_worker_ms"), single.best());
        o.putArray("shares").addAll(Arrays.stream(shares).mapToObj(o::numberNode).toList());
        List<StepFigures> main = distributed.get(0);
        var ranksNode = o.putArray("rank_ms");
        var cpuNode = o.putArray("rank_cpu_ms");
        var trafficNode = o.putArray("rank_traffic");
        for (StepFigures f : main) {
            phases(ranksNode.addObject(), f.best());
            cpuNode.add(f.leastCpuMs());
            f.write(trafficNode.addObject());
        }
        o.put("transfers_per_step", main.get(0).transfersPerStep());
        o.put("transfer_bytes_per_step", main.get(0).transferBytesPerStep());
        o.put("small_collectives_per_step", main.get(0).smallCollectivesPerStep());
        o.put("exposed_communication_percent", main.stream().mapToDouble(StepFigures::exposedPercent).average()
                .orElse(0));
        if (!modes.isEmpty()) {
            ObjectNode byAuth = o.putObject("rank_ms_by_auth");
            ObjectNode cpuByAuth = o.putObject("rank_cpu_ms_by_auth");
            for (int g = 0; g < modes.size(); g++) {
                var rows = byAuth.putArray(modes.get(g));
                var cpu = cpuByAuth.putArray(modes.get(g));
                for (StepFigures f : distributed.get(g)) {
                    phases(rows.addObject(), f.best());
                    cpu.add(f.leastCpuMs());
                }
            }
        }
        if (modes.size() == 2) {
            o.put("mac_cost_percent", macCostPercent(modes, distributed, f -> f.best().totalNs()));
            o.put("mac_cost_cpu_percent", macCostPercent(modes, distributed, StepFigures::leastCpuMs));
        }
        o.put("rss_growth_bytes", memory.rssAfter - memory.rssBefore);
        o.put("native_resources_growth", memory.resourcesAfter - memory.resourcesBefore);
        return m.writeValueAsString(o);
    }

    /** {@code " mac on"} or {@code " mac off"} for generation {@code g} over Aeron, else empty. */
    private static String mac(List<String> modes, int g) {
        return modes.isEmpty() ? "" : " mac " + modes.get(g);
    }

    /** Rank 0's {@code figure} with frame MACs over without, less 1, in percent. */
    private static double macCostPercent(List<String> modes, List<List<StepFigures>> distributed,
                                         ToDoubleFunction<StepFigures> figure) {
        double on = figure.applyAsDouble(distributed.get(modes.indexOf("on")).get(0));
        double off = figure.applyAsDouble(distributed.get(modes.indexOf("off")).get(0));
        return 100 * (on / off - 1);
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
