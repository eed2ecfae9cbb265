package org.clmr.ops.bench;

import org.clmr.data.audio.Wav;
import org.clmr.data.augment.Augmentation;
import org.clmr.data.augment.AugmentationChain;
import org.clmr.data.augment.PitchShift;
import org.clmr.data.augment.Reverb;
import org.clmr.data.augment.Scratch;
import org.clmr.data.random.Rng;
import org.clmr.protocol.UserError;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code clmr bench augment}: augmented crops per second on one thread (= per core), per augmentation (always
 * applied, parameters drawn) and for the whole default chain at its default probabilities, on synthetic music
 * (chords with harmonics, a beat and noise) cut into crops of the paper's length at 22050 Hz.
 *
 * <p>Where {@code sox} is on PATH, the same pitch (+3 semitones) and reverb (50 50 50, one channel) work is
 * timed in SoX on the same crops, concatenated into one file processed by one {@code sox} process writing to
 * the null device; the time of the same command without the effect (start-up, decoding) is subtracted, so the
 * figure is SoX's effect alone. Ours is timed on the same fixed parameters for the ratio. All figures are per
 * CPU-second (this thread's CPU time; sox's user + system time from bash's {@code time}), so that a machine
 * shared with other work gives the same figures as an idle one, up to cache and frequency effects.
 */
@Command(name = "augment", mixinStandardHelpOptions = true,
        description = "Augmented crops per second per core (one thread), per augmentation and for the whole chain; vs SoX where installed.")
public final class BenchAugment implements Callable<Integer> {
    private static final int RATE = 22050;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON object of the figures")
    boolean json;

    @Option(names = "--seconds", description = "Timing per figure, after as long a warm-up (default ${DEFAULT-VALUE})",
            defaultValue = "2")
    double seconds;

    @Option(names = "--crops", description = "Distinct crops of synthetic audio, also what SoX processes (default ${DEFAULT-VALUE})",
            defaultValue = "40")
    int cropCount;

    @Option(names = "--crop-length", description = "Samples per crop (default ${DEFAULT-VALUE})", defaultValue = "59049")
    int cropLength;

    @Option(names = "--no-sox", description = "Skip the SoX comparison")
    boolean noSox;

    /** One figure: crops per second, ours and (where measured) SoX's. */
    record Row(String name, double cropsPerSecond, double soxCropsPerSecond) {
    }

    @Override
    public Integer call() {
        if (seconds <= 0 || cropCount < 1 || cropLength < 1024) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--seconds must be > 0, --crops >= 1 and --crop-length >= 1024");
        }
        AugmentationChain chain = AugmentationChain.from(RunSpec.from(ClmrConfig.defaults()).augment());
        float[] audio = music(cropCount * cropLength);
        List<Row> rows = new ArrayList<>();
        for (Augmentation a : chain.augmentations()) {
            rows.add(new Row(a.name(), rate(audio, new Single(a)), Double.NaN));
        }
        rows.add(new Row("chain (default probabilities)", rate(audio, (x, i) -> chain.apply(x, RATE, Rng.of(42, 0, i, 0))),
                Double.NaN));
        String sox = noSox ? null : findSox();
        Path wav = null;
        try {
            if (sox != null) {
                wav = Files.createTempFile("clmr-bench-augment", ".wav");
                Wav.writePcm16(wav, audio, RATE);
            }
            Scratch scratch = new Scratch();
            rows.add(new Row("pitch +3 semitones", rate(audio, (x, i) -> PitchShift.shift(x, RATE, 3, scratch)),
                    sox == null ? Double.NaN : soxRate(sox, wav, "pitch", "300")));
            rows.add(new Row("reverb 50 50 50", rate(audio, (x, i) -> Reverb.apply(x, RATE, 50, 50, 50, scratch)),
                    sox == null ? Double.NaN : soxRate(sox, wav, "reverb", "50", "50", "50", "0")));
        } catch (IOException e) {
            throw new UserError("bench augment: cannot write its temporary WAV: " + e.getMessage());
        } finally {
            if (wav != null) {
                wav.toFile().delete();
            }
        }
        print(rows, sox != null);
        return 0;
    }

    @FunctionalInterface
    private interface Work {
        void run(float[] crop, int index);
    }

    /** One augmentation, always applied, its parameters drawn per crop. */
    private static final class Single implements Work {
        private final Augmentation a;
        private final double[] p;
        private final double[] free;
        private final Scratch scratch = new Scratch();

        Single(Augmentation a) {
            this.a = a;
            this.p = new double[a.parameters().size()];
            this.free = new double[p.length];
            Arrays.fill(free, Double.NaN);
        }

        @Override
        public void run(float[] crop, int index) {
            a.draw(Rng.of(7, index), p, free);
            a.apply(crop, RATE, p, scratch);
        }
    }

    /**
     * Crops per CPU-second of {@code work} on this thread, after a warm-up as long as the timing. CPU time, not
     * wall time, so that other processes sharing the cores do not count against it.
     */
    private double rate(float[] audio, Work work) {
        float[] crop = new float[cropLength];
        long budget = (long) (seconds * 1e9);
        int index = 0;
        for (long end = cpuNanos() + budget; cpuNanos() < end; index++) {
            System.arraycopy(audio, (index % cropCount) * cropLength, crop, 0, cropLength);
            work.run(crop, index);
        }
        int done = 0;
        long start = cpuNanos();
        long elapsed;
        do {
            System.arraycopy(audio, (index % cropCount) * cropLength, crop, 0, cropLength);
            work.run(crop, index++);
            done++;
            elapsed = cpuNanos() - start;
        } while (elapsed < budget);
        return done / (elapsed / 1e9);
    }

    private static long cpuNanos() {
        return THREADS.getCurrentThreadCpuTime();
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private static String findSox() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, "sox");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    /** Crops per CPU-second of SoX's effect alone: (CPU time with the effect - without) over the crops. */
    private double soxRate(String sox, Path wav, String... effect) {
        double best = Double.MAX_VALUE;
        double bestBase = Double.MAX_VALUE;
        for (int repeat = 0; repeat < 3; repeat++) {
            bestBase = Math.min(bestBase, time(sox, wav));
            best = Math.min(best, time(sox, wav, effect));
        }
        return cropCount / Math.max(1e-6, best - bestBase);
    }

    /** User + system CPU seconds of one sox run, as bash's {@code time} reports them for the child. */
    private static double time(String sox, Path wav, String... effect) {
        List<String> cmd = new ArrayList<>(List.of(sox, "-D", "-q", wav.toString(), "-n"));
        cmd.addAll(List.of(effect));
        StringBuilder line = new StringBuilder("TIMEFORMAT='%3U %3S'; time");
        for (String c : cmd) {
            line.append(" '").append(c.replace("'", "'\\''")).append('\'');
        }
        line.append(" >/dev/null 2>&1");
        String times;
        try {
            Process p = new ProcessBuilder("bash", "-c", line.toString()).redirectErrorStream(true).start();
            times = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new UserError("bench augment: " + String.join(" ", cmd) + " took over 120 s; try fewer --crops");
            }
            if (p.exitValue() != 0) {
                throw new UserError("bench augment: " + String.join(" ", cmd) + " exited " + p.exitValue()
                        + "; run it by hand to see why, or pass --no-sox");
            }
        } catch (IOException e) {
            throw new UserError("bench augment: cannot run " + sox + ": " + e.getMessage() + "; pass --no-sox");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("bench augment: interrupted while timing sox");
        }
        String[] us = times.split("\\s+");
        try {
            return Double.parseDouble(us[us.length - 2]) + Double.parseDouble(us[us.length - 1]);
        } catch (RuntimeException e) {
            throw new UserError("bench augment: cannot read the CPU time of " + String.join(" ", cmd) + " from '"
                    + times + "'; pass --no-sox");
        }
    }

    private void print(List<Row> rows, boolean withSox) {
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            StringBuilder b = new StringBuilder("{\"crop_length\":").append(cropLength).append(",\"sample_rate\":")
                    .append(RATE).append(",\"threads\":1,\"crops_per_second\":{");
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                b.append(i == 0 ? "" : ",").append('"').append(r.name).append("\":").append(num(r.cropsPerSecond));
            }
            b.append("},\"sox_crops_per_second\":{");
            boolean first = true;
            for (Row r : rows) {
                if (!Double.isNaN(r.soxCropsPerSecond)) {
                    b.append(first ? "" : ",").append('"').append(r.name).append("\":").append(num(r.soxCropsPerSecond));
                    first = false;
                }
            }
            b.append("},\"sox\":").append(withSox).append('}');
            w.println(b);
        } else {
            w.printf("augmented %d-sample crops at %d Hz per CPU-second, one thread%n", cropLength, RATE);
            w.printf("%-32s %12s %12s %8s%n", "augmentation", "crops/s", "sox crops/s", "ratio");
            for (Row r : rows) {
                boolean s = !Double.isNaN(r.soxCropsPerSecond);
                w.printf(Locale.ROOT, "%-32s %12.1f %12s %8s%n", r.name, r.cropsPerSecond,
                        s ? String.format(Locale.ROOT, "%.1f", r.soxCropsPerSecond) : "-",
                        s ? String.format(Locale.ROOT, "%.2fx", r.cropsPerSecond / r.soxCropsPerSecond) : "-");
            }
            if (!withSox) {
                w.println("(sox not compared: " + (noSox ? "--no-sox" : "no sox on PATH") + ")");
            }
        }
        w.flush();
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    /** Deterministic synthetic music: a chord progression with harmonics, a decaying beat, and a little noise. */
    static float[] music(int n) {
        Rng rng = new Rng(2021);
        float[] x = new float[n];
        double[][] chords = {{261.63, 329.63, 392.00}, {220.00, 261.63, 329.63}, {174.61, 220.00, 261.63},
                {196.00, 246.94, 293.66}};
        int chordLength = RATE;
        int beat = RATE / 2;
        for (int i = 0; i < n; i++) {
            double[] chord = chords[(i / chordLength) % chords.length];
            double t = (double) i / RATE;
            double v = 0;
            for (double f : chord) {
                for (int h = 1; h <= 4; h++) {
                    v += 0.08 / h * Math.sin(2 * Math.PI * f * h * t);
                }
            }
            v += 0.3 * Math.exp(-(i % beat) / (0.02 * RATE)) * rng.nextGaussian();
            x[i] = (float) (v + 0.01 * rng.nextGaussian());
        }
        return x;
    }
}
