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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code clmr bench step}: the distributed step's time split into its phases (data, forward, loss,
 * communication, backward, optimizer), what it moves (host-device transfers and their bytes, collectives,
 * of which batch-norm exchanges, gradient buckets), the share of the step the training thread waits for
 * collectives (the communication the gradient buckets do not hide), the process's memory growth over the
 * timed steps, and the cost of segmentation: the segmented single-worker step (batch norm from reduced
 * moments, one graph per segment, statistics' gradient added analytically) against an ordinary step with one
 * autograd graph through PyTorch's own batch_norm, on the same batch. With {@code --ranks R > 1} the ranks run
 * as threads of this JVM ({@link StepWorld}: in-process exchange, Aeron IPC or Aeron UDP): they share this
 * machine's cores, so their communication phase includes waiting for each other. Phases are those of the
 * fastest of a few iterations (other load only adds time); the rest are means over the timed steps.
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
        List<StepFigures> distributed = List.of(single);
        String world = "one rank";
        if (ranks > 1) {
            memory = new Memory();
            try (StepWorld w = StepWorld.open(transport, ranks)) {
                distributed = segmented(model, data, shares, w, memory);
                world = w.describe();
            }
        }
        print(model, shares, whole[0], whole[1], single, distributed, world, memory);
        return 0;
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

    /** Each rank's figures, ranks on threads of {@code world}. */
    private List<StepFigures> segmented(ModelSpec model, ViewPairs data, int[] shares, StepWorld world, Memory memory) {
        ExecutorService pool = Executors.newFixedThreadPool(shares.length);
        try {
            List<Future<StepFigures>> futures = new ArrayList<>();
            for (int r = 0; r < shares.length; r++) {
                int rank = r;
                futures.add(pool.submit(() -> rank(model, data, shares, world.join(rank), memory)));
            }
            List<StepFigures> out = new ArrayList<>();
            for (Future<StepFigures> f : futures) {
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

    private StepFigures rank(ModelSpec model, ViewPairs data, int[] shares, Collective c, Memory memory) {
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
        try (ClmrNetwork net = ClmrNetwork.create(model, 0, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            DistributedStep step = new DistributedStep(net, adam, TAU, c, 0, bucketElements);
            DistributedStep.ShareLoader loader = data::slice;
            StepFigures figures = new StepFigures();
            // every rank takes the same steps (they are collective): as many warm-up steps as the
            // single-worker figure needed to settle
            for (int k = 0; k < settledAfter + iterations; k++) {
                if (k == settledAfter && c.rank() == 0) {
                    memory.before(net);
                }
                DistributedStep.Result r = step.run(k, shares, loader);
                if (k >= settledAfter) {
                    figures.add(r);
                }
            }
            if (c.rank() == 0) {
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
                long t = clock.nanos();
                DistributedStep.Result r = step.run(k[0]++, new int[] {batch}, (offset, count) -> data);
                double s = (clock.nanos() - t) / 1e6;
                ms[0] = Math.min(ms[0], w);
                ms[1] = Math.min(ms[1], s);
                figures.add(r);
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
                       List<StepFigures> distributed, String world, Memory memory) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String clockName = clock.label();
        double overhead = 100 * (segmentedMs / whole - 1);
        double exposed = distributed.stream().mapToDouble(StepFigures::exposedPercent).average().orElse(0);
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("preset", model.preset());
            o.put("batch", batch);
            o.put("ranks", ranks);
            o.put("transport", transport);
            o.put("ranks_run_as", world);
            o.put("bucket_elements", bucketElements);
            o.put("iterations", iterations);
            o.put("threads", JniUtils.getNumThreads());
            o.put("clock", clockName);
            o.put("whole_graph_step_ms", whole);
            o.put("segmented_step_ms", segmentedMs);
            o.put("segmentation_overhead_percent", overhead);
            phases(o.putObject("single_worker_ms"), single.best());
            o.putArray("shares").addAll(Arrays.stream(shares).mapToObj(o::numberNode).toList());
            var ranksNode = o.putArray("rank_ms");
            var trafficNode = o.putArray("rank_traffic");
            for (StepFigures f : distributed) {
                phases(ranksNode.addObject(), f.best());
                f.write(trafficNode.addObject());
            }
            StepFigures first = distributed.get(0);
            o.put("transfers_per_step", first.transfersPerStep());
            o.put("transfer_bytes_per_step", first.transferBytesPerStep());
            o.put("small_collectives_per_step", first.smallCollectivesPerStep());
            o.put("exposed_communication_percent", exposed);
            o.put("rss_growth_bytes", memory.rssAfter - memory.rssBefore);
            o.put("native_resources_growth", memory.resourcesAfter - memory.resourcesBefore);
            out.println(m.writeValueAsString(o));
        } else {
            out.printf("clmr bench step: preset %s, global batch %d, best of %d iterations, %d intra-op threads, %s%n",
                    model.preset(), batch, iterations, JniUtils.getNumThreads(), world);
            out.printf("ordinary whole-graph step %.1f ms, segmented single-worker step %.1f ms (%s clock): "
                    + "segmentation overhead %.1f%%%n", whole, segmentedMs, clockName, overhead);
            out.printf("%-22s", "ms");
            for (String p : PHASES) {
                out.printf(" %13s", p);
            }
            out.printf(" %13s%n", "total");
            row(out, "1 worker (" + batch + ")", single.best());
            if (ranks > 1) {
                for (int r = 0; r < distributed.size(); r++) {
                    row(out, "rank " + r + "/" + ranks + " (" + shares[r] + ")", distributed.get(r).best());
                }
                out.println("(ranks are threads of this JVM sharing its cores: communication includes waiting for each other)");
            }
            out.println("per step, 1 worker: " + single.line());
            for (int r = 0; ranks > 1 && r < distributed.size(); r++) {
                out.println("per step, rank " + r + ": " + distributed.get(r).line());
            }
            out.printf("over the timed steps: resident set %+.1f MB, managed native resources %+d%n",
                    (memory.rssAfter - memory.rssBefore) / 1e6, memory.resourcesAfter - memory.resourcesBefore);
        }
        out.flush();
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
