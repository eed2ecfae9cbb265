package org.clmr.ops.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.data.ViewTransform;
import org.clmr.data.augment.AugmentationChain;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.data.pipeline.Batch;
import org.clmr.data.pipeline.BatchPipeline;
import org.clmr.data.pipeline.BatchRequest;
import org.clmr.data.pipeline.ViewSampler;
import org.clmr.data.random.Rng;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;

/**
 * {@code clmr bench data}: random crops read per second per thread from a packed dataset in the page
 * cache (one copy, int16 to float), also per CPU-second of a reading thread (the figure that holds on a
 * loaded machine), and views per second through the batch pipeline without augmentation. Without
 * {@code --dataset} it generates a temporary one (30 tracks of 30 s).
 */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Crops read per second per thread from a packed dataset (page cache), and pipeline views per second.")
public final class BenchData implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dataset", paramLabel = "DIR", description = "A packed dataset (default: generate a temporary one)")
    Path dataset;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "1", description = "Reading threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "3", description = "Measuring time per figure (default ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--crop", paramLabel = "N", defaultValue = "59049", description = "Samples per crop (default ${DEFAULT-VALUE})")
    int crop;

    @Option(names = "--json", description = "Print one JSON object instead of a table")
    boolean json;

    @Option(names = "--augment", description = "Also measure the pipeline with the default augmentation chain (clmr.run.augment)")
    boolean augment;

    @Option(names = "--check", description = "Only time the dataset's content check: the first read of every hashed"
            + " chunk of data.pcm (what training pays), against checking the whole file at once")
    boolean check;

    @Override
    public Integer call() throws Exception {
        if (threads < 1 || seconds <= 0 || crop < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads, --seconds and --crop must be positive");
        }
        Path temp = null;
        Path dir = dataset;
        try {
            if (dir == null) {
                temp = Files.createTempDirectory("clmr-bench-data-");
                dir = temp.resolve("generated");
                GeneratedSet.write(dir, 30, 1, 22050, 30, Runtime.getRuntime().availableProcessors(), false, Duration.ofSeconds(5));
            }
            if (check) {
                printCheck(dir);
                return 0;
            }
            PackedDataset ds = PackedDataset.open(dir);
            PretrainView view = PretrainView.of(ds, false);
            warmPageCache(ds, view);
            double[] crops = crops(view);
            double viewsPerSecond = pipeline(view, ViewTransform.IDENTITY);
            double augmentedPerSecond = augment
                    ? pipeline(view, AugmentationChain.from(RunSpec.from(ClmrConfig.defaults()).augment())) : Double.NaN;
            print(dir, ds, crops[0], crops[1], viewsPerSecond, augmentedPerSecond);
            return 0;
        } finally {
            if (temp != null) {
                deleteTree(temp);
            }
        }
    }

    /** The content check's cost, chunk by chunk as readers pay it and for the whole file at once. */
    private void printCheck(Path dir) {
        PackedDataset ds = PackedDataset.open(dir);
        long chunkBytes = ds.index().chunks().bytes();
        int chunks = ds.index().chunks().sha256().size();
        float[] dst = new float[1];
        long t0 = System.nanoTime();
        for (int c = 0; c < chunks; c++) {
            ds.readRange(c * chunkBytes / 2, 1, 0, dst, 0, 1);
        }
        double first = (System.nanoTime() - t0) / 1e9;
        long t1 = System.nanoTime();
        PackedDataset.open(dir).verify();
        double whole = (System.nanoTime() - t1) / 1e9;
        long bytes = 2 * ds.index().totalSamples();
        spec.commandLine().getOut().printf(Locale.ROOT, "%s: %.1f MB in %d chunks of %d MiB: first read of every chunk"
                + " %.2f s (%.0f ms a chunk); whole-file check %.2f s (%.0f MB/s)%n", dir, bytes / 1e6, chunks,
                chunkBytes >> 20, first, chunks == 0 ? 0 : 1000 * first / chunks, whole, bytes / 1e6 / whole);
    }

    private static void warmPageCache(PackedDataset ds, PretrainView view) {
        float[] buf = new float[1 << 16];
        for (int i = 0; i < view.size(); i++) {
            for (long off = 0; off < view.length(i); off += buf.length) {
                view.readCrop(i, off, buf, 0, buf.length);
            }
        }
    }

    /**
     * Crops per wall-clock second over all threads, and per CPU-second of a reading thread (what a thread
     * does when it has a core to itself), after a warm-up of a quarter of the time.
     */
    private double[] crops(PretrainView view) throws Exception {
        CyclicBarrier start = new CyclicBarrier(threads);
        long[] counts = new long[threads];
        double[] sinks = new double[threads];
        long[] nanos = new long[threads];
        long[] cpuNanos = new long[threads];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                float[] dst = new float[crop];
                Rng rng = new Rng(id);
                double sink = 0;
                long warmEnd = System.nanoTime() + (long) (seconds * 0.25e9);
                while (System.nanoTime() < warmEnd) {
                    sink += readOne(view, rng, dst);
                }
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                long c0 = mx.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                long end = t0 + (long) (seconds * 1e9);
                long n = 0;
                while ((n & 63) != 0 || System.nanoTime() < end) {
                    sink += readOne(view, rng, dst);
                    n++;
                }
                nanos[id] = System.nanoTime() - t0;
                cpuNanos[id] = mx.getCurrentThreadCpuTime() - c0;
                counts[id] = n;
                sinks[id] = sink;
            }, "bench-data-" + t);
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join();
        }
        double total = 0;
        long allCounts = 0;
        long allCpu = 0;
        for (int t = 0; t < threads; t++) {
            total += counts[t] / (nanos[t] / 1e9);
            allCounts += counts[t];
            allCpu += cpuNanos[t];
        }
        if (Double.isNaN(sinks[0])) {
            spec.commandLine().getErr().println("NaN in the data");
        }
        return new double[] {total, allCpu > 0 ? allCounts / (allCpu / 1e9) : Double.NaN};
    }

    private double readOne(PretrainView view, Rng rng, float[] dst) {
        int item = rng.nextInt(view.size());
        long offset = rng.nextLong(Math.max(1, view.length(item) - crop + 1));
        view.readCrop(item, offset, dst, 0, crop);
        return dst[crop >> 1];
    }

    /** Views per second through a {@link BatchPipeline} of {@code threads} threads with {@code transform}. */
    private double pipeline(PretrainView view, ViewTransform transform) {
        int batch = Math.min(16, view.size());
        ViewSampler sampler = new ViewSampler(view, 7, crop, transform);
        try (BatchPipeline p = new BatchPipeline(sampler, 7, batch, view.size(), threads, 4)) {
            int steps = view.size() / batch;
            long views = 0;
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            int k = 0;
            while (System.nanoTime() < end) {
                List<BatchRequest> next = new ArrayList<>();
                for (int j = 1; j <= 4; j++) {
                    next.add(new BatchRequest((k + j) / steps, (k + j) % steps, 0, batch));
                }
                Batch b = p.take(new BatchRequest(k / steps, k % steps, 0, batch), next);
                views += 2L * b.share();
                p.recycle(b);
                k++;
            }
            return views / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private void print(Path dir, PackedDataset ds, double cropsPerSecond, double cropsPerCpuSecond, double viewsPerSecond,
                       double augmentedPerSecond) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        double perThread = cropsPerSecond / threads;
        double gbPerSecond = cropsPerSecond * crop * 2 / 1e9;
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("benchmark", "data").put("dataset", dir.toString()).put("tracks", ds.size())
                    .put("datasetBytes", 2 * ds.index().totalSamples()).put("threads", threads).put("cropSamples", crop)
                    .put("seconds", seconds).put("cropsPerSecond", Math.round(cropsPerSecond))
                    .put("cropsPerSecondPerThread", Math.round(perThread))
                    .put("cropsPerCpuSecond", Math.round(cropsPerCpuSecond)).put("pcmGBPerSecond", round(gbPerSecond))
                    .put("pipelineViewsPerSecond", Math.round(viewsPerSecond))
                    .put("cpus", Runtime.getRuntime().availableProcessors());
            if (augment) {
                o.put("pipelineAugmentedViewsPerSecond", Math.round(augmentedPerSecond));
            }
            out.println(new ObjectMapper().writeValueAsString(o));
        } else {
            out.printf(Locale.ROOT, "clmr bench data: %s (%d tracks, %.1f MB), %d thread(s), crops of %d samples%n",
                    dir, ds.size(), 2 * ds.index().totalSamples() / 1e6, threads, crop);
            out.printf(Locale.ROOT, "  %-36s %,14.0f%n", "crops/s (all threads)", cropsPerSecond);
            out.printf(Locale.ROOT, "  %-36s %,14.0f%n", "crops/s per thread", perThread);
            out.printf(Locale.ROOT, "  %-36s %,14.0f%n", "crops per CPU-second of a thread", cropsPerCpuSecond);
            out.printf(Locale.ROOT, "  %-36s %14.2f%n", "PCM read GB/s", gbPerSecond);
            out.printf(Locale.ROOT, "  %-36s %,14.0f%n", "pipeline views/s (no augmentation)", viewsPerSecond);
            if (augment) {
                out.printf(Locale.ROOT, "  %-36s %,14.0f%n", "pipeline views/s (augmented)", augmentedPerSecond);
            }
        }
        out.flush();
    }

    private static double round(double x) {
        return Math.round(x * 100) / 100.0;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
