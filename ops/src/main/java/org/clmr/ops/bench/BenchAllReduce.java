package org.clmr.ops.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import org.clmr.ops.ConfigOptions;
import org.clmr.ops.driver.DriverProcess;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.security.PrivateFiles;
import org.clmr.protocol.wire.FrameKey;
import org.clmr.protocol.process.JavaProcess;
import org.clmr.worker.collective.AeronSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code clmr bench allreduce}: starts N rank JVMs ({@link AllReduceBenchRank}) on loopback UDP or on one
 * shared driver ({@code clmr driver}, a child process) over IPC, and reports per size the median time of an
 * all-reduce, its algorithm bandwidth (bytes / time) and bus bandwidth (2(N-1)/N x bytes / time), plus the
 * p50/p99 latency of a 4 KB all-reduce; then runs torch.distributed's gloo all_reduce on the same sizes and N for comparison when
 * /usr/bin/python3 has torch. {@code --auth on,off} measures frames with and without their MAC in the same rank
 * processes, interleaved, and reports what the MAC costs.
 */
@Command(name = "allreduce", mixinStandardHelpOptions = true,
        description = "All-reduce bandwidth and latency of the Aeron collectives between N local processes, against gloo.")
public final class BenchAllReduce implements Callable<Integer> {
    static final String PYTHON = "/usr/bin/python3";

    @Mixin
    ConfigOptions options;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--ranks", defaultValue = "2", description = "Processes (default ${DEFAULT-VALUE})")
    int ranks;

    @Option(names = "--bytes", defaultValue = "1MB,10MB,40MB",
            description = "Sizes of the float32 vector, e.g. 1MB,10MB,40MB (KB/MB/GB decimal, KiB/MiB/GiB binary)")
    String bytes;

    @Option(names = "--transport", defaultValue = "udp", description = "udp (one embedded driver per rank) or ipc (one shared driver)")
    String transport;

    @Option(names = "--iterations", defaultValue = "10", description = "Timed all-reduces per size (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--latency-iterations", defaultValue = "2000", description = "Timed 4 KB all-reduces (default ${DEFAULT-VALUE})")
    int latencyIterations;

    @Option(names = "--mtu", defaultValue = "65504",
            description = "Aeron MTU in bytes for UDP, loopback included (default ${DEFAULT-VALUE}, loopback's datagram limit, as clmr.worker.aeron.loopback-mtu; clmr.worker.aeron.mtu, 1408, suits Ethernet)")
    int mtu;

    @Option(names = "--term-length", description = "Publication term length, e.g. 16MiB (default: clmr.worker.aeron.term-length)")
    String termLength;

    @Option(names = "--gloo", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also run torch.distributed gloo on the same sizes (default ${DEFAULT-VALUE})")
    boolean gloo;

    @Option(names = "--rounds", defaultValue = "3",
            description = "Rounds, each running the Aeron ranks and then gloo, so that both see the same load on a shared"
                    + " machine; every figure is the median over rounds, x gloo the median of the rounds' ratios (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--auth", defaultValue = "on",
            description = "on: frames carry their MAC, as in a cluster; off: without it; on,off: both in the same rank"
                    + " processes, interleaved iteration by iteration, with the MAC's cost per size (default ${DEFAULT-VALUE})")
    String auth;

    @Option(names = "--json", description = "Print one JSON object instead of a table")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (ranks < 2 || ranks > 64) {
            throw new SettingsException("--ranks", ranks, "must be in [2, 64]");
        }
        if (!transport.equals("udp") && !transport.equals("ipc")) {
            throw new SettingsException("--transport", transport, "must be udp or ipc");
        }
        if (rounds < 1 || rounds > 50) {
            throw new SettingsException("--rounds", rounds, "must be in [1, 50]");
        }
        if (iterations < 1 || latencyIterations < 10) {
            throw new SettingsException("--iterations/--latency-iterations", iterations + "/" + latencyIterations,
                    "must be >= 1 and >= 10");
        }
        long[] sizes = parseSizes(bytes);
        List<String> modes = parseAuth(auth);
        Config config = options.load();
        AeronSettings settings = AeronSettings.from(config);
        int term = termLength == null ? settings.termLength() : (int) parseSize("--term-length", termLength);
        settings = settings.withSizes(term, mtu);
        validate(settings);
        double loadBefore = loadAverage();
        List<ObjectNode> aeron = new ArrayList<>();
        List<ObjectNode> gl = new ArrayList<>();
        String glooSkipped = gloo ? null : "--no-gloo";
        for (int r = 0; r < rounds; r++) {
            aeron.add(runAeron(config, settings, sizes, modes));
            if (glooSkipped == null) {
                ObjectNode g = runGloo(sizes);
                if (g.has("skipped")) {
                    glooSkipped = g.get("skipped").asText();
                } else {
                    gl.add(g);
                }
            }
        }
        report(settings, sizes, modes, aeron, glooSkipped == null ? gl : List.of(), glooSkipped, loadBefore,
                loadAverage());
        return 0;
    }

    /** {@code on}, {@code off}, or both in the order given (the first is the one compared with gloo). */
    static List<String> parseAuth(String text) {
        List<String> modes = List.of(text.trim().split("\\s*,\\s*"));
        boolean known = modes.stream().allMatch(m -> m.equals("on") || m.equals("off"));
        if (!known || modes.isEmpty() || modes.size() > 2 || modes.stream().distinct().count() != modes.size()) {
            throw new SettingsException("--auth", text + " must be on, off, on,off or off,on");
        }
        return modes;
    }

    private static void validate(AeronSettings s) {
        if (Integer.bitCount(s.termLength()) != 1 || s.termLength() < 65536) {
            throw new SettingsException("--term-length", s.termLength(), "must be a power of two of at least 64KiB");
        }
        if (s.mtu() < 1024 || s.mtu() > 65504 || s.mtu() % 32 != 0) {
            throw new SettingsException("--mtu", s.mtu(), "must be a multiple of 32 in [1024, 65504]");
        }
    }

    private ObjectNode runAeron(Config config, AeronSettings settings, long[] sizes, List<String> modes)
            throws Exception {
        boolean ipc = transport.equals("ipc");
        Path work = Files.createTempDirectory("clmr-bench-allreduce");
        String keyFile = "-";
        if (modes.contains("on")) {
            keyFile = work.resolve("frame.key").toString();
            byte[] key = new byte[FrameKey.LENGTH];
            new SecureRandom().nextBytes(key);
            PrivateFiles.writePrivate(Path.of(keyFile), key);
        }
        DriverProcess driver = null;
        List<Process> processes = new ArrayList<>();
        try {
            String dir = "-";
            List<String> endpoints = new ArrayList<>();
            List<String> sets = forwardedSettings(config);
            if (ipc) {
                driver = DriverProcess.start(sets, work.resolve("driver.log"));
                dir = driver.directory();
                for (int r = 0; r < ranks; r++) {
                    endpoints.add("ipc");
                }
            } else {
                endpoints = AeronSettings.freeLoopbackEndpoints(ranks);
            }
            long largest = 0;
            for (long s : sizes) {
                largest = Math.max(largest, s);
            }
            String heap = Math.max(256, 6 * largest / (1024 * 1024) + 128) + "m";
            StringBuilder sizeArg = new StringBuilder();
            for (long s : sizes) {
                sizeArg.append(sizeArg.length() == 0 ? "" : ",").append(s);
            }
            for (int r = 0; r < ranks; r++) {
                List<String> args = new ArrayList<>(List.of(Integer.toString(r), String.join(",", endpoints), transport, dir,
                        sizeArg.toString(), Integer.toString(iterations), Integer.toString(latencyIterations),
                        Integer.toString(settings.termLength()), Integer.toString(settings.mtu()), String.join(",", modes),
                        keyFile));
                args.addAll(sets);
                processes.add(JavaProcess.of(AllReduceBenchRank.class).maxHeap(heap).args(args)
                        .output(work.resolve("rank" + r + ".log")).start());
            }
            for (int r = 0; r < ranks; r++) {
                if (!processes.get(r).waitFor(600, TimeUnit.SECONDS)) {
                    throw new UserError("bench rank " + r + " did not finish within 600 s; its log: " + work.resolve("rank" + r + ".log"));
                }
                if (processes.get(r).exitValue() != 0) {
                    throw new UserError("bench rank " + r + " failed (exit " + processes.get(r).exitValue() + "): "
                            + lastLine(work.resolve("rank" + r + ".log")) + " (log: " + work.resolve("rank" + r + ".log") + ")");
                }
            }
            return result(Files.readString(work.resolve("rank0.log")), "rank 0 of the Aeron bench");
        } finally {
            processes.forEach(Process::destroyForcibly);
            if (driver != null) {
                driver.close();
            }
        }
    }

    private ObjectNode runGloo(long[] sizes) throws Exception {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            return skipped("no " + PYTHON);
        }
        Path script = Files.createTempFile("clmr-gloo-allreduce", ".py");
        try (InputStream in = BenchAllReduce.class.getResourceAsStream("gloo_allreduce.py")) {
            Files.write(script, in.readAllBytes());
        }
        StringBuilder sizeArg = new StringBuilder();
        for (long s : sizes) {
            sizeArg.append(sizeArg.length() == 0 ? "" : ",").append(s);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path log = Files.createTempFile("clmr-gloo-allreduce", ".log");
        Process p = new ProcessBuilder(PYTHON, script.toString(), "--ranks", Integer.toString(ranks),
                "--bytes", sizeArg.toString(), "--iterations", Integer.toString(iterations),
                "--latency-iterations", Integer.toString(latencyIterations), "--port", Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                return skipped("gloo did not finish within 600 s (log " + log + ")");
            }
            String out = Files.readString(log);
            if (p.exitValue() != 0) {
                return skipped(out.contains("No module named 'torch'") ? PYTHON + " has no torch"
                        : "gloo failed (exit " + p.exitValue() + "): " + lastLine(log));
            }
            return result(out, "the gloo script");
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(script);
        }
    }

    private void report(AeronSettings s, long[] sizes, List<String> modes, List<ObjectNode> aeron, List<ObjectNode> gl,
                        String glooSkipped, double loadBefore, double loadAfter) {
        PrintWriter out = spec.commandLine().getOut();
        ObjectNode all = new ObjectMapper().createObjectNode();
        all.put("ranks", ranks).put("transport", transport).put("mtu", s.mtu()).put("term_length", s.termLength())
                .put("iterations", iterations).put("rounds", rounds).put("cpus", Runtime.getRuntime().availableProcessors())
                .put("load_before", loadBefore).put("load_after", loadAfter);
        var authList = all.putArray("auth");
        modes.forEach(authList::add);
        if (!json) {
            out.printf(Locale.ROOT, "all-reduce (sum, float32), %d ranks, Aeron %s (mtu %d, term %d), frame MAC %s,"
                            + " %d iterations per size, %d rounds, %d CPUs, load average %.2f -> %.2f%n",
                    ranks, transport, s.mtu(), s.termLength(), String.join(" and ", modes), iterations, rounds,
                    Runtime.getRuntime().availableProcessors(), loadBefore, loadAfter);
            out.printf(Locale.ROOT, "%10s %4s %10s %10s %10s %8s %10s %10s %8s %7s %8s%n", "bytes", "mac", "median ms",
                    "algbw GB/s", "busbw GB/s", "cpu ms", "gloo ms", "gloo busbw", "gloo cpu", "x gloo", "mac cost");
        }
        ObjectNode byAuth = all.putObject("by_auth");
        for (int m = 0; m < modes.size(); m++) {
            List<ObjectNode> rounds = modeRounds(aeron, modes.get(m));
            ObjectNode mode = byAuth.putObject(modes.get(m));
            for (int i = 0; i < sizes.length; i++) {
                ObjectNode row = sizeRow(mode.withArray("sizes").addObject(), rounds, i, m == 0 ? gl : List.of());
                if (modes.size() == 2 && modes.get(m).equals("on")) {
                    macCost(row, rounds, modeRounds(aeron, "off"), i);
                }
                if (!json) {
                    printRow(out, modes.get(m), row);
                }
            }
            mode.put("lat_4k_p50_us", median(rounds, r -> r.get("lat_p50_us").asDouble()))
                    .put("lat_4k_p99_us", median(rounds, r -> r.get("lat_p99_us").asDouble()));
        }
        ObjectNode first = (ObjectNode) byAuth.get(modes.get(0));
        all.set("sizes", first.get("sizes"));
        all.set("lat_4k_p50_us", first.get("lat_4k_p50_us"));
        all.set("lat_4k_p99_us", first.get("lat_4k_p99_us"));
        if (!gl.isEmpty()) {
            all.put("gloo_lat_4k_p50_us", median(gl, r -> r.get("lat_p50_us").asDouble()))
                    .put("gloo_lat_4k_p99_us", median(gl, r -> r.get("lat_p99_us").asDouble()));
        } else if (glooSkipped != null) {
            all.put("gloo_skipped", glooSkipped);
        }
        if (json) {
            out.println(all);
        } else {
            printLatency(out, modes, byAuth, all, glooSkipped);
        }
        out.flush();
    }

    /** Each round's result of one auth mode, as the rank printed it. */
    private static List<ObjectNode> modeRounds(List<ObjectNode> aeron, String mode) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode r : aeron) {
            out.add((ObjectNode) r.get("modes").get(mode));
        }
        return out;
    }

    /** Size {@code i}'s medians over rounds, with gloo's beside them when {@code gl} has rounds. */
    private ObjectNode sizeRow(ObjectNode row, List<ObjectNode> rounds, int i, List<ObjectNode> gl) {
        double factor = 2.0 * (ranks - 1) / ranks;
        long b = rounds.get(0).get("sizes").get(i).get("bytes").asLong();
        double t = median(rounds, r -> r.get("sizes").get(i).get("median_s").asDouble());
        double alg = b / t / 1e9;
        row.put("bytes", b).put("median_ms", t * 1e3).put("algbw_gbps", alg).put("busbw_gbps", alg * factor)
                .put("cpu_ms", median(rounds, r -> r.get("sizes").get(i).get("cpu_s").asDouble()) * 1e3);
        if (!gl.isEmpty()) {
            double gt = median(gl, r -> r.get("sizes").get(i).get("median_s").asDouble());
            int paired = Math.min(rounds.size(), gl.size());
            double[] ratios = new double[paired];
            for (int r = 0; r < paired; r++) {
                ratios[r] = gl.get(r).get("sizes").get(i).get("median_s").asDouble()
                        / rounds.get(r).get("sizes").get(i).get("median_s").asDouble();
            }
            row.put("gloo_median_ms", gt * 1e3).put("gloo_busbw_gbps", b / gt / 1e9 * factor)
                    .put("gloo_cpu_ms", median(gl, r -> r.get("sizes").get(i).get("cpu_s").asDouble()) * 1e3)
                    .put("speedup", median(ratios));
            var per = row.putArray("speedup_per_round");
            for (double x : ratios) {
                per.add(x);
            }
        }
        return row;
    }

    /** The MAC's cost at size {@code i}: each round's time with it over the same round's without, less 1; the median. */
    private static void macCost(ObjectNode row, List<ObjectNode> on, List<ObjectNode> off, int i) {
        double[] costs = new double[on.size()];
        for (int r = 0; r < costs.length; r++) {
            costs[r] = on.get(r).get("sizes").get(i).get("median_s").asDouble()
                    / off.get(r).get("sizes").get(i).get("median_s").asDouble() - 1;
        }
        row.put("mac_cost", median(costs));
        var per = row.putArray("mac_cost_per_round");
        for (double c : costs) {
            per.add(c);
        }
    }

    private static void printRow(PrintWriter out, String mode, ObjectNode row) {
        boolean g = row.has("gloo_median_ms");
        out.printf(Locale.ROOT, "%10d %4s %10.3f %10.3f %10.3f %8.2f %10s %10s %8s %7s %8s%n", row.get("bytes").asLong(),
                mode, row.get("median_ms").asDouble(), row.get("algbw_gbps").asDouble(), row.get("busbw_gbps").asDouble(),
                row.get("cpu_ms").asDouble(),
                g ? String.format(Locale.ROOT, "%.3f", row.get("gloo_median_ms").asDouble()) : "-",
                g ? String.format(Locale.ROOT, "%.3f", row.get("gloo_busbw_gbps").asDouble()) : "-",
                g ? String.format(Locale.ROOT, "%.2f", row.get("gloo_cpu_ms").asDouble()) : "-",
                g ? String.format(Locale.ROOT, "%.2f", row.get("speedup").asDouble()) : "-",
                row.has("mac_cost") ? String.format(Locale.ROOT, "%+.1f%%", 100 * row.get("mac_cost").asDouble()) : "-");
    }

    private void printLatency(PrintWriter out, List<String> modes, ObjectNode byAuth, ObjectNode all, String glooSkipped) {
        StringBuilder line = new StringBuilder("4 KB all-reduce latency:");
        for (String m : modes) {
            line.append(String.format(Locale.ROOT, " MAC %s p50 %.1f us, p99 %.1f us;", m,
                    byAuth.get(m).get("lat_4k_p50_us").asDouble(), byAuth.get(m).get("lat_4k_p99_us").asDouble()));
        }
        line.append(String.format(Locale.ROOT, " (%d iterations)", latencyIterations));
        if (all.has("gloo_lat_4k_p50_us")) {
            line.append(String.format(Locale.ROOT, "; gloo p50 %.1f us, p99 %.1f us", all.get("gloo_lat_4k_p50_us").asDouble(),
                    all.get("gloo_lat_4k_p99_us").asDouble()));
        } else if (glooSkipped != null) {
            line.append("; gloo skipped: ").append(glooSkipped);
        }
        out.println(line);
        out.println("cpu ms: CPU time of rank 0's whole process per all-reduce; x gloo: gloo's time / Aeron's (MAC "
                + modes.get(0) + "); mac cost: each round's time with the MAC / without, less 1; all medians over rounds");
    }

    private static double median(List<ObjectNode> rounds, java.util.function.ToDoubleFunction<ObjectNode> f) {
        return median(rounds.stream().mapToDouble(f).toArray());
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        java.util.Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    private static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static ObjectNode skipped(String why) {
        return new ObjectMapper().createObjectNode().put("skipped", why);
    }

    private static ObjectNode result(String log, String who) throws IOException {
        for (String line : log.split("\n")) {
            if (line.startsWith("RESULT ")) {
                return (ObjectNode) new ObjectMapper().readTree(line.substring(7));
            }
        }
        throw new UserError(who + " printed no RESULT line; its output ends: " + last(log));
    }

    /** Every resolved key of clmr.worker.aeron as {@code --set key=value}, so the ranks run the same settings. */
    private static List<String> forwardedSettings(Config config) {
        List<String> sets = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : config.getConfig(AeronSettings.SECTION).entrySet()) {
            sets.add("--set");
            sets.add(AeronSettings.SECTION + "." + e.getKey() + "=" + e.getValue().render(
                    com.typesafe.config.ConfigRenderOptions.concise()));
        }
        return sets;
    }

    static long[] parseSizes(String list) {
        String[] parts = list.split(",");
        long[] sizes = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            sizes[i] = parseSize("--bytes", parts[i].trim());
            if (sizes[i] < 4 || sizes[i] > 1L << 30) {
                throw new SettingsException("--bytes", parts[i], "each size must be in [4B, 1GiB]");
            }
        }
        return sizes;
    }

    /** "40MB" = 40,000,000; "4KiB" = 4096; a bare number is bytes. */
    static long parseSize(String option, String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        String[][] units = {{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"},
                {"KB", "1000"}, {"MB", "1000000"}, {"GB", "1000000000"}, {"K", "1024"}, {"M", "1048576"}, {"B", "1"}};
        for (String[] u : units) {
            if (t.endsWith(u[0])) {
                unit = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            double v = Double.parseDouble(t);
            if (!(v > 0)) {
                throw new NumberFormatException();
            }
            return (long) (v * unit);
        } catch (NumberFormatException e) {
            throw new SettingsException(option, text, "must be a size such as 4KB, 10MB or 16MiB");
        }
    }

    private static String lastLine(Path log) {
        try {
            return last(Files.readString(log));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static String last(String text) {
        String[] lines = text.strip().split("\n");
        return lines.length == 0 ? "(no output)" : lines[lines.length - 1];
    }
}
