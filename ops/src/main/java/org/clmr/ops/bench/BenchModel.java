package org.clmr.ops.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.data.random.Rng;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.protocol.run.OptimizerSpec;
import org.clmr.worker.model.BatchStats;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.reference.ClmrStep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * {@code clmr bench model}: milliseconds per waveform of the DJL model's training forward (one view, autograd
 * recording on, as in a step),
 * forward + backward, and a full CLMR step (two views, NT-Xent, backward, Adam), the fastest of a few
 * iterations; and, where {@code /usr/bin/python3} has torch, the same model in PyTorch in the same run
 * (bench_model_torch.py, shipped as a resource) with the ratio DJL / PyTorch.
 */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Time the model on DJL (forward, forward+backward, full CLMR step) against PyTorch.")
public final class BenchModel implements Callable<Integer> {
    private static final String PYTHON = "/usr/bin/python3";

    @Spec
    CommandSpec spec;

    @Option(names = "--preset", defaultValue = "paper", description = "model preset (default ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--projection-dim", defaultValue = "128", description = "width of z (default ${DEFAULT-VALUE})")
    int projectionDim;

    @Option(names = "--batch", defaultValue = "8", description = "waveforms per view (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--iterations", defaultValue = "5",
            description = "timed runs per figure; the fastest is reported, as other load only adds time (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--warmup", defaultValue = "2",
            description = "untimed runs first, at least; 0: no warm-up (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--max-warmup", defaultValue = "12",
            description = "untimed runs at most: warm-up goes on while a run still faults fresh heap pages in "
                    + "(default ${DEFAULT-VALUE})")
    int maxWarmup;

    @Option(names = "--threads", defaultValue = "0", description = "intra-op threads for both engines; 0: their default (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--clock", defaultValue = "wall", converter = BenchClock.Converter.class,
            description = "wall: elapsed time; cpu: CPU time of the timing thread (with --threads 1 all work runs on it, "
                    + "so other processes' load on the cores hardly counts) (default ${DEFAULT-VALUE})")
    BenchClock clock;

    @Option(names = "--no-torch", description = "skip the PyTorch comparison")
    boolean noTorch;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @FunctionalInterface
    private interface Body {
        void run();
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        ModelSpec model = ModelSpec.preset(preset, projectionDim).validated();
        Engine.getEngine("PyTorch");  // loads the natives before the first JNI call
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
            JniUtils.setNumInteropThreads(threads);
        }
        clock.check(threads);
        int length = model.inputLength();
        Rng rng = new Rng(1);
        float[] x1 = gaussian(rng, batch * length);
        float[] x2 = gaussian(rng, batch * length);
        float[] g = gaussian(rng, batch * projectionDim);
        double[] djl = new double[3];
        double wholeGraph;
        try (ClmrNetwork net = ClmrNetwork.create(model, 0, Device.cpu());
             Adam adam = new Adam(new OptimizerSpec(3e-4, 0.9, 0.999, 1e-8), net.params())) {
            Shape shape = new Shape(batch, 1, length);
            djl[0] = best(() -> {
                // recorded, as a training step runs it (PyTorch's no-grad convolution takes another kernel)
                try (NDManager s = net.manager().newSubManager();
                     GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) {
                    net.forwardTrain(Tensors.upload(s, x1, shape), 0, BatchStats.LOCAL).z.toFloatArray();
                }
            }) / batch;
            djl[1] = best(() -> {
                try (NDManager s = net.manager().newSubManager();
                     GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) {
                    ClmrNetwork.ViewTape t = net.forwardTrain(Tensors.upload(s, x1, shape), 0, BatchStats.LOCAL);
                    net.backward(t, Tensors.upload(s, g, new Shape(batch, projectionDim)), BatchStats.LOCAL);
                }
                Gradients.zero(net.params());
            }) / batch;
            wholeGraph = best(() -> {
                try (NDManager s = net.manager().newSubManager();
                     GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) {
                    NDArray z = net.forwardWholeGraph(Tensors.upload(s, x1, shape));
                    JniUtils.backward((ai.djl.pytorch.engine.PtNDArray) z,
                            (ai.djl.pytorch.engine.PtNDArray) Tensors.upload(s, g, new Shape(batch, projectionDim)), false, false);
                }
                Gradients.zero(net.params());
            }) / batch;
            ClmrStep step = new ClmrStep(net, adam, 0.5);
            djl[2] = best(() -> step.run(batch, length, x1, x2)) / (2.0 * batch);
        }
        JsonNode torch = null;
        String torchNote = "skipped (--no-torch)";
        if (!noTorch) {
            try {
                torch = runTorch(model);
                torchNote = "torch " + torch.path("torch").asText() + ", " + torch.path("threads").asInt() + " threads";
            } catch (IOException e) {
                torchNote = "unavailable: " + e.getMessage();
            }
        }
        print(model, djl, wholeGraph, torch, torchNote);
        return 0;
    }

    private double best(Body body) {
        new Warmup(warmup, maxWarmup).run(body::run);
        double[] ms = new double[Math.max(1, iterations)];
        for (int i = 0; i < ms.length; i++) {
            long t = clock.nanos();
            body.run();
            ms[i] = (clock.nanos() - t) / 1e6;
        }
        return Arrays.stream(ms).min().orElseThrow();
    }

    private JsonNode runTorch(ModelSpec model) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            throw new IOException(PYTHON + " not found");
        }
        Path script = Files.createTempFile("clmr-bench-torch", ".py");
        try {
            try (InputStream in = BenchModel.class.getResourceAsStream("bench_model_torch.py")) {
                Files.write(script, in.readAllBytes());
            }
            List<String> cmd = new ArrayList<>(List.of(PYTHON, script.toString(), Integer.toString(model.stemChannels()),
                    model.blockChannels().stream().map(String::valueOf).collect(Collectors.joining(",")),
                    Integer.toString(projectionDim), Integer.toString(model.inputLength()), Integer.toString(batch),
                    Integer.toString(Math.max(1, iterations)), Integer.toString(warmup), Integer.toString(threads), clock.label(),
                    Integer.toString(maxWarmup)));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                String text = new String(output, StandardCharsets.UTF_8).strip();
                throw new IOException(text.isEmpty() ? "the PyTorch script failed"
                        : text.lines().reduce((a, b) -> b).orElse(text));
            }
            String text = new String(output, StandardCharsets.UTF_8).strip();
            return new ObjectMapper().readTree(text.lines().reduce((a, b) -> b).orElse("{}"));
        } finally {
            Files.deleteIfExists(script);
        }
    }

    private void print(ModelSpec model, double[] djl, double wholeGraph, JsonNode torch, String torchNote)
            throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String[] keys = {"forward_ms_per_waveform", "forward_backward_ms_per_waveform", "step_ms_per_waveform"};
        String[] names = {"forward (train mode, 1 view)", "forward + backward", "CLMR step (2 views, NT-Xent, Adam)"};
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("preset", model.preset());
            o.put("batch", batch);
            o.put("iterations", iterations);
            o.put("threads", JniUtils.getNumThreads());
            o.put("clock", clock.label());
            ObjectNode d = o.putObject("djl");
            for (int i = 0; i < 3; i++) {
                d.put(keys[i], djl[i]);
            }
            d.put("whole_graph_forward_backward_ms_per_waveform", wholeGraph);
            if (torch != null) {
                o.set("pytorch", torch);
                ObjectNode r = o.putObject("ratio_djl_over_pytorch");
                for (int i = 0; i < 3; i++) {
                    r.put(keys[i], djl[i] / torch.path(keys[i]).asDouble());
                }
            } else {
                o.put("pytorch", torchNote);
            }
            out.println(m.writeValueAsString(o));
        } else {
            out.printf("clmr bench model: preset %s, batch %d, best of %d iterations, %s clock, DJL %d threads; PyTorch: %s%n",
                    model.preset(), batch, iterations, clock.label(), JniUtils.getNumThreads(),
                    torchNote);
            out.printf("%-36s %14s %14s %8s%n", "ms per waveform", "DJL", "PyTorch", "ratio");
            for (int i = 0; i < 3; i++) {
                if (torch != null) {
                    double t = torch.path(keys[i]).asDouble();
                    out.printf("%-36s %14.2f %14.2f %8.3f%n", names[i], djl[i], t, djl[i] / t);
                } else {
                    out.printf("%-36s %14.2f %14s %8s%n", names[i], djl[i], "-", "-");
                }
            }
            out.printf("%-36s %14.2f   (DJL, one graph with torch's batch_norm: segmentation overhead %.1f%%)%n",
                    "forward + backward, whole graph", wholeGraph, 100 * (djl[1] / wholeGraph - 1));
        }
        out.flush();
    }

    private static float[] gaussian(Rng rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.3 * rng.nextGaussian());
        }
        return x;
    }
}
