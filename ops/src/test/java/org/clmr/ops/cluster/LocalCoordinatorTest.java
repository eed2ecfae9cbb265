package org.clmr.ops.cluster;

import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.clmr.ops.cluster.ClusterLogs.StepLine;
import org.clmr.protocol.process.JavaProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code clmr train --workers 2} supervising its coordinator, with real processes (the launcher too, in a JVM of its
 * own), on one run directory of the tiny preset:
 * <ol>
 *   <li>SIGKILL of the coordinator while the launcher is held (SIGSTOP) and its cluster port taken meanwhile: the
 *       launcher, let go, says it starts the coordinator again, which cannot bind the port, and ends with one line
 *       naming why, the log, and that the same command resumes; exit 1, every process stopped;</li>
 *   <li>the same command resumes the run; SIGKILL of its coordinator mid-run: the launcher starts it again on the
 *       same cluster port, the workers join it with the state they hold, and the run completes with its planned
 *       step count, no step repeated or skipped in either worker's log, and nothing left running.</li>
 * </ol>
 * The restart time (kill to the first step of the generation the workers form with the new coordinator) is printed.
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS)
class LocalCoordinatorTest {
    private static final Duration WAIT = Duration.ofSeconds(150);
    private static final int BATCH = 6;
    private static final int EPOCHS = 30;
    private static final Pattern COMMITTED = Pattern.compile("checkpoint \\d+ of step ([1-9]\\d*) committed");
    private static final Pattern DONE = Pattern.compile("done: finished " + EPOCHS + " epochs \\((\\d+) steps\\)");

    private final List<ProcessHandle> started = new ArrayList<>();
    private Path dir;

    @AfterEach
    void stopAll() throws IOException, InterruptedException {
        for (ProcessHandle p : started) {
            signal("CONT", p);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void shouldEndWithOneLineWhenTheCoordinatorCannotStartAgainThenResumeAndOutliveAKilledCoordinator()
            throws Exception {
        dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "clmr-supervise-").toAbsolutePath();
        Path dataset = dir.resolve("dataset");
        GeneratedSet.write(dataset, 24, 7, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        long total;
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            total = (long) (PretrainView.of(ds, false).size() / BATCH) * EPOCHS;
        }
        Path runDir = dir.resolve("run");
        List<String> train = List.of("train", "--dataset", dataset.toString(), "--workers", "2", "--preset", "tiny",
                "--batch", String.valueOf(BATCH), "--epochs", String.valueOf(EPOCHS), "--run-dir", runDir.toString(),
                "--set", "run.model.projection-dim=16", "--set", "worker.threads=1",
                "--set", "run.checkpoint.every-steps=8", "--set", "coordinator.plan-steps=4",
                // the workers notice a lost coordinator, and the cluster downs it, within seconds
                "--set", "worker.cluster.coordinator-lost-after=2s", "--set", "worker.cluster.repeat-interval=500ms",
                "--set", "worker.cluster.down-unreachable-after=3s",
                "--set", "coordinator.cluster.down-unreachable-after=3s");

        // 1. the coordinator is killed and its cluster port taken before the launcher can start it again
        Path log1 = dir.resolve("launcher-1.log");
        Process first = launch(train, log1);
        ClusterLogs.await(runDir.resolve("coordinator.log"), COMMITTED, first, WAIT);
        List<ProcessHandle> children1 = first.descendants().toList();
        Properties lock1 = lock(runDir);
        String address1 = lock1.getProperty("cluster");
        signal("STOP", first.toHandle());
        // the held launcher does not reap its killed child, which stays a zombie, but one whose sockets are closed
        ProcessHandle.of(Long.parseLong(lock1.getProperty("pid"))).orElseThrow().destroyForcibly();
        try (ServerSocket taken = bind(port(address1))) {
            signal("CONT", first.toHandle());
            assertTrue(first.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "the launcher ended:\n" + read(log1));
        }
        String out1 = read(log1);
        assertEquals(1, first.exitValue(), out1);
        assertTrue(out1.contains("local cluster: the coordinator (PID " + lock1.getProperty("pid") + ") exited with"
                + " code 137; starting it again on " + address1 + " (log: " + runDir.resolve("coordinator.log") + ")"),
                out1);
        List<String> errors = out1.lines().filter(l -> l.startsWith("clmr train:")).toList();
        assertEquals(1, errors.size(), out1);
        assertTrue(Pattern.compile("clmr train: the coordinator could not be started again: it \\(PID \\d+\\) exited"
                + " with code 1 while starting \\(its error: cannot bind the cluster port 127\\.0\\.0\\.1:"
                + port(address1) + " .*\\); see " + Pattern.quote(runDir.resolve("coordinator.log").toString())
                + "; every process of the local cluster is stopped, and the same command resumes the run")
                .matcher(errors.get(0)).matches(), errors.get(0));
        assertNothingRunning(children1, runDir);

        // 2. the same command resumes; its coordinator is killed mid-run and started again
        long newestCheckpoint = newestCommitted(read(runDir.resolve("coordinator.log")));
        Path log2 = dir.resolve("launcher-2.log");
        Process second = launch(train, log2);
        ClusterLogs.await(log2, Pattern.compile("resuming run train"), second, WAIT);
        ClusterLogs.await(runDir.resolve("worker-0.log"), ClusterLogs.STEP, second, WAIT);
        List<ProcessHandle> children2 = second.descendants().toList();
        Properties lock2 = lock(runDir);
        long killedAt = System.nanoTime();
        StepLine heldAtKill = lastStep(runDir);
        killCoordinator(lock2);
        awaitGenerationAfter(runDir, heldAtKill.generation(), second);
        double restartSeconds = (System.nanoTime() - killedAt) / 1e9;
        assertTrue(second.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "the launcher ended:\n" + read(log2));
        String out2 = read(log2);
        assertEquals(0, second.exitValue(), out2);
        assertTrue(out2.contains("local cluster: the coordinator (PID " + lock2.getProperty("pid") + ") exited with"
                + " code 137; starting it again on " + lock2.getProperty("cluster") + " (log: "
                + runDir.resolve("coordinator.log") + ")"), out2);
        assertTrue(out2.contains("local cluster: the coordinator was started again 1 time\n"), out2);
        Matcher done = DONE.matcher(out2);
        assertTrue(done.find(), out2);
        assertEquals(total, Long.parseLong(done.group(1)), "the planned step count");
        for (int i = 0; i < 2; i++) {
            List<StepLine> steps = ClusterLogs.steps(runDir.resolve("worker-" + i + ".log"));
            ClusterLogs.assertContiguous(steps, "worker " + i);
            assertEquals(total, steps.get(steps.size() - 1).step(), "worker " + i + " trained to the end");
            assertTrue(steps.get(0).step() <= heldAtKill.step(), "worker " + i + " trained before the kill: "
                    + steps.get(0));
            assertEquals(newestCheckpoint + 1, steps.get(0).step(), "worker " + i + " resumed from the newest"
                    + " checkpoint the killed coordinator had committed (step " + newestCheckpoint + ")");
        }
        assertNothingRunning(children2, runDir);
        System.out.printf(Locale.ROOT, "local cluster: coordinator killed -> started again -> next step %.1f s"
                + " (tiny preset, 2 workers)%n", restartSeconds);
    }

    /** The step of the newest checkpoint a coordinator log says was committed. */
    private static long newestCommitted(String coordinatorLog) {
        Matcher m = COMMITTED.matcher(coordinatorLog);
        long newest = -1;
        while (m.find()) {
            newest = Math.max(newest, Long.parseLong(m.group(1)));
        }
        assertTrue(newest > 0, "a checkpoint was committed:\n" + coordinatorLog);
        return newest;
    }

    private Process launch(List<String> args, Path log) {
        Process p = JavaProcess.of(Clmr.class).args(args).maxHeap("256m").output(log).start();
        started.add(p.toHandle());
        return p;
    }

    /** The run directory's lock: the coordinator's pid and cluster address. */
    private static Properties lock(Path runDir) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(Files.readString(runDir.resolve("coordinator.lock"))));
        assertTrue(p.getProperty("cluster", "").startsWith("akka://clmr@"), p.toString());
        return p;
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    private static void killCoordinator(Properties lock) throws Exception {
        ProcessHandle coordinator = ProcessHandle.of(Long.parseLong(lock.getProperty("pid"))).orElseThrow();
        assertTrue(coordinator.destroyForcibly(), "SIGKILL to the coordinator " + coordinator.pid());
        coordinator.onExit().get(30, TimeUnit.SECONDS);
    }

    /** A socket listening on {@code port}, once the killed process that held it has let it go. */
    private static ServerSocket bind(int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            ServerSocket s = new ServerSocket();
            try {
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
                return s;
            } catch (IOException e) {
                s.close();
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private static void signal(String name, ProcessHandle p) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, String.valueOf(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
    }

    /** The newest step line of the run directory's two workers (null before the first). */
    private static StepLine lastStep(Path runDir) throws IOException {
        StepLine last = null;
        for (int i = 0; i < 2; i++) {
            for (StepLine s : ClusterLogs.steps(runDir.resolve("worker-" + i + ".log"))) {
                last = last == null || s.step() > last.step() ? s : last;
            }
        }
        return last;
    }

    /** Waits for a step of a generation after {@code generation}: the workers are back with a coordinator. */
    private static void awaitGenerationAfter(Path runDir, long generation, Process launcher) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (lastStep(runDir).generation() <= generation) {
            if (System.nanoTime() - deadline > 0 || !launcher.isAlive()) {
                fail("no step of a generation after " + generation + " (launcher alive: " + launcher.isAlive()
                        + "); logs in " + runDir);
            }
            Thread.sleep(100);
        }
    }

    /** Every child the launcher had, and every process naming the run directory, has ended. */
    private static void assertNothingRunning(List<ProcessHandle> children, Path runDir) throws InterruptedException {
        assertTrue(children.size() >= 4, "a coordinator, a driver and two workers: " + children);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            List<ProcessHandle> left = new ArrayList<>(children.stream().filter(ProcessHandle::isAlive).toList());
            ProcessHandle.allProcesses().filter(h -> h.pid() != ProcessHandle.current().pid())
                    .filter(h -> h.info().commandLine().map(c -> c.contains(runDir.toString())).orElse(false))
                    .forEach(left::add);
            if (left.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                fail("still running: " + left.stream().map(h -> h.pid() + " " + h.info().commandLine().orElse("?"))
                        .toList());
            }
            Thread.sleep(250);
        }
    }

    private static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }
}
