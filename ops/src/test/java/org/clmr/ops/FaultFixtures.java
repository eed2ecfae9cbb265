package org.clmr.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.coordinator.CoordinatorNode;
import org.clmr.data.audio.Wav;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.protocol.Sha256;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.process.JavaProcess;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the fault matrix's rows share: a scratch directory, a generated dataset, audio inputs for {@code prepare},
 * a single-process run with checkpoints, and ways to run {@code clmr} in this JVM or as a process of its own,
 * to hash files before and after, to wait for a log line, and to find the processes a run directory still has.
 */
final class FaultFixtures {
    /** The tiny model every row trains (as the other real-process tests do). */
    static final List<String> TINY = List.of("--set", "run.model.preset=tiny", "--set", "run.model.projection-dim=16",
            "--set", "worker.threads=1");
    static final Duration WAIT = Duration.ofSeconds(300);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The end of a command: its exit code and what it printed (stderr and stdout; merged for a process). */
    record Outcome(int exit, String err, String out) {
        String text() {
            return err + out;
        }
    }

    final Path dir;
    final Path dataset;
    final Path trained;
    /** Processes the rows started; each is killed at the end if it still runs. */
    final List<Process> started = new ArrayList<>();
    private CoordinatorNode node;

    FaultFixtures(Path dir) throws IOException {
        this.dir = dir;
        this.dataset = dir.resolve("dataset");
        GeneratedSet.write(dataset, 16, 5, 22050, 1.0, 2, false, Duration.ofSeconds(60));
        this.trained = dir.resolve("trained");
        Outcome t = cli("train", "--preset", "tiny", "--batch", "4", "--steps", "2", "--run-dir", trained.toString(),
                "--set", "run.checkpoint.every-steps=1", "--set", "run.model.projection-dim=16",
                "--set", "worker.threads=1");
        assertTrue(t.exit() == 0, "the trained fixture: " + t.text());
    }

    /**
     * The coordinator node the cluster rows share, in this JVM (started on first use): the tiny model, global
     * batch 4, plans of 2 steps, a checkpoint every 4 steps, its H2 database in {@code cluster-run}.
     */
    CoordinatorNode node() {
        if (node == null) {
            node = CoordinatorNode.start(ClmrConfig.load(null, List.of("run.model.preset=tiny",
                    "run.model.projection-dim=16", "run.global-batch=4", "run.epochs=200",
                    "run.checkpoint.every-steps=4", "coordinator.plan-steps=2", "coordinator.formation-delay=0s",
                    "coordinator.cluster.port=0", "coordinator.http.port=0")), clusterRun());
        }
        return node;
    }

    /** The shared coordinator node's run directory. */
    Path clusterRun() {
        return dir.resolve("cluster-run");
    }

    /** The shared coordinator node's HTTP endpoint (HOST:PORT). */
    String http() {
        return "127.0.0.1:" + node().httpPort();
    }

    /** The shared coordinator node's cluster address (HOST:PORT), what workers give as --seed-nodes. */
    String seed() {
        return node().address().getHost().orElseThrow() + ":" + node().address().getPort().orElseThrow();
    }

    /** The shared node's status, waiting while it does not answer. */
    JsonNode nodeStatus() throws InterruptedException {
        until("the coordinator at " + http() + " answers", () -> status(http()) != null);
        return status(http());
    }

    /** Remembers a process a row started (it is killed at the end if it still runs). */
    Process started(Process p) {
        started.add(p);
        return p;
    }

    /** Stops what the rows started. */
    void close() {
        started.forEach(Process::destroyForcibly);
        if (node != null) {
            node.close();
        }
    }

    /** Runs {@code clmr args...} in this JVM. */
    static Outcome cli(String... args) {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Outcome(code, err.toString(), out.toString());
    }

    /** Starts {@code clmr args...} as a process of its own, its output (merged) to {@code log}. */
    static Process start(Path log, List<String> args) {
        return JavaProcess.of(Clmr.class).maxHeap("512m").args(args).output(log).start();
    }

    /** Runs {@code clmr args...} as a process of its own, within {@link #WAIT}. */
    Outcome process(String name, List<String> args) throws IOException, InterruptedException {
        Path log = dir.resolve(name + ".log");
        Process p = start(log, args);
        if (!p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("clmr " + args + " did not end within " + WAIT.toSeconds() + " s: " + read(log));
        }
        return new Outcome(p.exitValue(), read(log), "");
    }

    /** The checkpoint of step {@code step} of the trained fixture. */
    Path checkpoint(int step) {
        return trained.resolve("checkpoints/train/step-00000000000" + step + ".ckpt");
    }

    /** A copy of {@code from} (a file or directory tree) at {@code name} in the scratch directory. */
    Path copy(Path from, String name) throws IOException {
        Path to = dir.resolve(name);
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }

    /** Flips one bit of {@code file} at {@code offset}. */
    static void flip(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 1);
        }
    }

    /** A folder of inputs for prepare: a good track, a too short one, a corrupt "mp3" and a text file. */
    Path audioInputs(String name, boolean withGood) throws IOException {
        Path in = Files.createDirectories(dir.resolve(name));
        if (withGood) {
            float[] tone = new float[22050 * 2];
            for (int i = 0; i < tone.length; i++) {
                tone[i] = (float) (0.3 * Math.sin(2 * Math.PI * 440 * i / 22050.0));
            }
            Wav.writePcm16(in.resolve("good.wav"), tone, 22050);
            Wav.writePcm16(in.resolve("short.wav"), new float[400], 22050);
        }
        Files.write(in.resolve("corrupt.mp3"), "ID3 but then nothing an mp3 decoder can read".getBytes());
        Files.writeString(in.resolve("notes.txt"), "not audio");
        return in;
    }

    /** SHA-256 of every file below {@code root} (relative path -> hash), to show what a row left unchanged. */
    static Map<String, String> hashes(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        if (!Files.exists(root)) {
            return out;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isRegularFile(p)) {
                    out.put(root.relativize(p).toString(), Sha256.hex(Files.readAllBytes(p)));
                }
            }
        }
        return out;
    }

    /** Temporary checkpoint files left below {@code root}. */
    static List<Path> temporaries(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> all = Files.walk(root)) {
            all.filter(p -> p.getFileName().toString().contains(".tmp-")).forEach(out::add);
        }
        return out;
    }

    /** Processes whose command line names {@code path} (what a run directory still has running). */
    static List<ProcessHandle> processesOf(Path path) {
        String p = path.toString();
        return ProcessHandle.allProcesses().filter(h -> h.pid() != ProcessHandle.current().pid())
                .filter(h -> h.info().commandLine().map(c -> c.contains(p)).orElse(false)).toList();
    }

    /** Polls {@code log} until {@code pattern} matches; group 1 (or the match). Fails the row when {@code p} ends first. */
    static String await(Path log, Pattern pattern, Process p) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(read(log));
            if (m.find()) {
                return m.groupCount() > 0 ? m.group(1) : m.group();
            }
            if (p != null && !p.isAlive()) {
                fail("process ended (" + p.exitValue() + ") before " + pattern + ":\n" + read(log));
            }
            Thread.sleep(200);
        }
        return fail("no " + pattern + " within " + WAIT.toSeconds() + " s in " + log + ":\n" + read(log));
    }

    /** Waits until {@code done} holds, within {@link #WAIT}. */
    static void until(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + WAIT.toSeconds() + " s: " + what);
            }
            Thread.sleep(250);
        }
    }

    /** The coordinator's status at {@code http} (HOST:PORT), or null while it does not answer. */
    static JsonNode status(String http) {
        try {
            JsonNode s = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://" + http + "/status"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
            return s.has("phase") ? s : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** Whether this process may mount a tmpfs (root, and a kernel that lets it). */
    static boolean canMount(Path at) {
        try {
            Files.createDirectories(at);
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", at.toString())
                    .redirectErrorStream(true).start();
            boolean ok = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
            if (ok) {
                unmount(at);
            }
            return ok;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Mounts (or, when mounted, resizes) a tmpfs of {@code size} (e.g. 600k) at {@code at}. */
    static void mountTmpfs(Path at, String size, boolean remount) throws IOException, InterruptedException {
        Files.createDirectories(at);
        List<String> cmd = remount ? List.of("mount", "-o", "remount,size=" + size, at.toString())
                : List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", at.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, cmd + ": " + out);
    }

    static void unmount(Path at) throws IOException, InterruptedException {
        new ProcessBuilder("umount", "-l", at.toString()).redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
    }
}
