package org.clmr.ops;

import com.fasterxml.jackson.databind.JsonNode;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.FaultFixtures.Outcome;
import org.clmr.ops.FaultMatrixTest.Check;
import org.clmr.ops.FaultMatrixTest.Row;
import org.clmr.protocol.security.ThrowawayKeys;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.clmr.ops.FaultFixtures.TINY;
import static org.clmr.ops.FaultFixtures.await;
import static org.clmr.ops.FaultFixtures.cli;
import static org.clmr.ops.FaultFixtures.hashes;
import static org.clmr.ops.FaultFixtures.processesOf;
import static org.clmr.ops.FaultFixtures.read;
import static org.clmr.ops.FaultFixtures.status;
import static org.clmr.ops.FaultFixtures.temporaries;
import static org.clmr.ops.FaultFixtures.until;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fault matrix's rows, by the fixtures they share (see {@link FaultMatrixTest}). */
final class FaultRows {
    private static final Pattern STEP = Pattern.compile("step generation=\\d+ rank=\\d+ step=(\\d+) ");

    private FaultRows() {
    }

    private static String[] args(List<String> head, List<String> tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(tail);
        return all.toArray(String[]::new);
    }

    /** Usage and configuration: bad flags and keys, counts out of range (exit 2, the option or key named). */
    static List<Row> usage(FaultFixtures fx) {
        Path never = fx.dir.resolve("never");
        return List.of(
                new Row("an unknown flag", () -> cli("train", "--no-such-flag"), 2, "Unknown option: '--no-such-flag'",
                        Check.NOTHING),
                new Row("an unknown configuration key", () -> cli("config", "--set", "run.no-such-key=1"), 2,
                        "run.no-such-key", Check.NOTHING),
                new Row("a key of the wrong type", () -> cli("config", "--set", "run.global-batch=abc"), 2,
                        "clmr.run.global-batch", Check.NOTHING),
                new Row("a count of zero in the configuration", () -> cli("config", "--set", "run.epochs=0"), 2,
                        "clmr.run.epochs.*0", Check.NOTHING),
                new Row("a negative count in the configuration", () -> cli("config", "--set",
                        "data.pipeline.threads=-1"), 2, "clmr.data.pipeline.threads", Check.NOTHING),
                new Row("a count of zero on the command line", () -> cli("train", "--batch", "0"), 2,
                        "--batch = 0: must be an integer in \\[2, ", Check.NOTHING),
                new Row("a negative count on the command line", () -> cli("prepare", "--generate", "-3", "--out",
                        never.toString()), 2, "--generate = -3", () -> assertFalse(Files.exists(never))));
    }

    /** Damaged inputs: audio for prepare, checkpoints for export, evaluate and resume, a dataset and its index. */
    static List<Row> files(FaultFixtures fx) throws IOException {
        List<Row> rows = new ArrayList<>();
        Path mixed = fx.audioInputs("inputs-mixed", true);
        Map<String, String> mixedBefore = hashes(mixed);
        rows.add(new Row("prepare skips corrupt, short and non-audio files", () -> cli("prepare", "--input",
                mixed.toString(), "--out", fx.dir.resolve("prepared").toString(), "--set", "data.prepare.min-seconds=1"),
                0, "skipped", () -> assertEquals(mixedBefore, hashes(mixed), "the inputs are untouched")));
        Path bad = fx.audioInputs("inputs-bad", false);
        rows.add(new Row("prepare with no usable audio", () -> cli("prepare", "--input", bad.toString(), "--out",
                fx.dir.resolve("prepared-none").toString()), 1, "no usable audio",
                () -> assertFalse(Files.exists(fx.dir.resolve("prepared-none")), "no partial dataset is left")));
        rows.add(new Row("prepare of a path that does not exist", () -> cli("prepare", "--input",
                fx.dir.resolve("no-such-folder").toString(), "--out", fx.dir.resolve("prepared-missing").toString()),
                1, "no-such-folder", () -> assertFalse(Files.exists(fx.dir.resolve("prepared-missing")))));
        rows.addAll(checkpoints(fx));
        rows.addAll(datasets(fx));
        return rows;
    }

    private static List<Row> checkpoints(FaultFixtures fx) throws IOException {
        Path truncated = fx.copy(fx.checkpoint(2), "truncated.ckpt");
        Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(truncated), (int) Files.size(truncated) / 2));
        Path flipped = fx.copy(fx.checkpoint(2), "flipped.ckpt");
        FaultFixtures.flip(flipped, Files.size(flipped) / 2);
        Map<String, String> truncatedHash = hashes(truncated);
        Path resumeDir = fx.copy(fx.trained, "resume-flipped");
        FaultFixtures.flip(resumeDir.resolve("checkpoints/train/step-000000000002.ckpt"), 5000);
        Map<String, String> resumeBefore = hashes(resumeDir);
        Path out = fx.dir.resolve("exported.safetensors");
        return List.of(
                new Row("export of a truncated checkpoint", () -> cli("export", "--checkpoint", truncated.toString(),
                        "--out", out.toString()), 1, "refused", () -> {
                            assertEquals(truncatedHash, hashes(truncated));
                            assertFalse(Files.exists(out), "nothing is exported");
                        }),
                new Row("export of a bit-flipped checkpoint", () -> cli("export", "--checkpoint", flipped.toString(),
                        "--out", out.toString()), 1, "refused", () -> assertFalse(Files.exists(out))),
                new Row("evaluate with a bit-flipped checkpoint", () -> cli("evaluate", "--checkpoint",
                        flipped.toString(), "--dataset", fx.dataset.toString(), "--out",
                        fx.dir.resolve("report").toString()), 1, "SHA-256|refused|corrupt", Check.NOTHING),
                new Row("a resume whose newest checkpoint is bit-flipped", () -> cli(args(List.of("train", "--preset",
                        "tiny", "--batch", "4", "--steps", "3", "--run-dir", resumeDir.toString()), TINY)), 1,
                        "is refused", () -> assertEquals(resumeBefore, hashes(resumeDir), "no checkpoint is touched")));
    }

    private static List<Row> datasets(FaultFixtures fx) throws IOException {
        Path changed = fx.copy(fx.dataset, "dataset-changed");
        FaultFixtures.flip(changed.resolve("data.pcm"), 30_000);
        Map<String, String> changedBefore = hashes(changed);
        Path damaged = fx.copy(fx.dataset, "dataset-damaged-index");
        Path index = damaged.resolve("index.json");
        Files.writeString(index, Files.readString(index).replaceFirst("\"trackCount\" : \\d+", "\"trackCount\" : -2"));
        Path run = fx.dir.resolve("changed-run");
        return List.of(
                new Row("a data.pcm changed after prepare", () -> cli(args(List.of("train", "--dataset",
                        changed.toString(), "--preset", "tiny", "--batch", "4", "--steps", "2", "--run-dir",
                        run.toString()), TINY)), 1, "changed after clmr prepare", () -> {
                            assertEquals(changedBefore, hashes(changed));
                            assertTrue(hashes(run.resolve("checkpoints")).isEmpty(), "nothing was trained on it");
                        }),
                new Row("a dataset index with a damaged field", () -> cli(args(List.of("train", "--dataset",
                        damaged.toString(), "--preset", "tiny", "--batch", "4", "--steps", "2", "--run-dir",
                        run.toString()), TINY)), 1, "field trackCount is -2", Check.NOTHING));
    }

    /** Single-process training: Ctrl-C and the same command again; a full disk, then space again. */
    static List<Row> singleProcess(FaultFixtures fx) {
        Path run = fx.dir.resolve("interrupted");
        List<String> train = new ArrayList<>(List.of("train", "--preset", "tiny", "--batch", "4", "--steps", "30",
                "--run-dir", run.toString(), "--set", "run.checkpoint.every-steps=2"));
        train.addAll(TINY);
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("Ctrl-C of clmr train, then the same command resumes", () -> {
            Process p = fx.started(FaultFixtures.start(fx.dir.resolve("interrupted.log"), train));
            await(fx.dir.resolve("interrupted.log"), Pattern.compile("checkpoint step 2 "), p);
            new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "clmr train stops on SIGINT");
            assertEquals(130, p.exitValue(), read(fx.dir.resolve("interrupted.log")));
            return cli(train.toArray(String[]::new));
        }, 0, "resuming from step \\d+.*(?s).*done: 30 steps", () -> assertTrue(temporaries(run).isEmpty())));
        rows.addAll(fullDisk(fx));
        return rows;
    }

    private static List<Row> fullDisk(FaultFixtures fx) {
        Path mount = fx.dir.resolve("small-disk");
        if (!FaultFixtures.canMount(mount)) {
            return List.of(new Row("a full disk (skipped: this process may not mount a tmpfs)", () -> new Outcome(0, "",
                    "skipped: mounting a tmpfs needs root"), 0, "skipped", Check.NOTHING));
        }
        Path run = mount.resolve("run");
        List<String> train = new ArrayList<>(List.of("train", "--preset", "tiny", "--batch", "4", "--steps", "4",
                "--run-dir", run.toString(), "--set", "run.checkpoint.every-steps=1", "--set",
                "run.checkpoint.keep-last=1"));
        train.addAll(TINY);
        return List.of(
                new Row("a full disk in clmr train (a 600 KiB tmpfs: one checkpoint fits)", () -> {
                    FaultFixtures.mountTmpfs(mount, "600k", false);
                    return cli(train.toArray(String[]::new));
                }, 1, "No space left on device.*newest good checkpoint is of step 1.*run the same command again", () -> {
                    assertTrue(temporaries(run).isEmpty(), "no temporary file is left: " + temporaries(run));
                    assertEquals(1, hashes(run.resolve("checkpoints")).keySet().stream()
                            .filter(f -> f.endsWith(".ckpt")).count(), hashes(run).toString());
                }),
                new Row("with space again, the same clmr train resumes", () -> {
                    FaultFixtures.mountTmpfs(mount, "16m", true);
                    return cli(train.toArray(String[]::new));
                }, 0, "resuming from step 1 (?s).*done: 4 steps", () -> FaultFixtures.unmount(mount)));
    }

    /** A coordinator on a run dir in use, ports in use, and a run id used again (the node in this JVM). */
    static List<Row> coordinator(FaultFixtures fx) {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("a second coordinator on the same run dir", () -> {
            fx.node();
            return fx.process("second-coordinator", List.of("coordinator", "--run-dir", fx.clusterRun().toString(),
                    "--set", "coordinator.cluster.port=0", "--set", "coordinator.http.port=0"));
        }, 1, "run dir .*cluster-run is in use by coordinator PID " + ProcessHandle.current().pid() + " on host ",
                () -> assertEquals("IDLE", fx.nodeStatus().path("phase").asText(), "the first one goes on")));
        for (String which : List.of("cluster", "HTTP")) {
            Path runDir = fx.dir.resolve(which + "-port-run");
            rows.add(new Row("the coordinator's " + which + " port in use", () -> {
                try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                    int port = taken.getLocalPort();
                    return fx.process(which + "-port", List.of("coordinator", "--run-dir", runDir.toString(),
                            "--set", "coordinator.cluster.port=" + (which.equals("cluster") ? port : 0),
                            "--set", "coordinator.http.port=" + (which.equals("HTTP") ? port : 0)));
                }
            }, 1, "cannot bind the " + which + " port", () -> assertTrue(processesOf(runDir).isEmpty())));
        }
        String dataset = fx.dataset.toString();
        rows.add(new Row("a run started", () -> cli("control", "start", "--coordinator", fx.http(), "--run-id", "r",
                "--dataset", dataset), 0, "run r started", Check.NOTHING));
        rows.add(new Row("the run stopped", () -> cli("control", "stop", "--coordinator", fx.http()), 0, "run r stopped",
                Check.NOTHING));
        rows.add(new Row("a run id started again", () -> cli("control", "start", "--coordinator", fx.http(), "--run-id",
                "r", "--dataset", dataset), 1, "run r exists .*--resume.*--fresh keep.*--fresh drop",
                () -> assertEquals("COMPLETED", fx.nodeStatus().path("phase").asText(), "the stopped run is as it was")));
        rows.add(new Row("a run id started again with --resume", () -> cli("control", "start", "--coordinator",
                fx.http(), "--run-id", "r", "--dataset", dataset, "--resume"), 0, "run r resumed",
                () -> assertEquals("WAITING_FOR_WORKERS", fx.nodeStatus().path("phase").asText())));
        return rows;
    }

    /** Worker processes of the run r: another dataset, SIGTERM to a member, SIGTERM to the last member. */
    static List<Row> workers(FaultFixtures fx) throws IOException {
        Path other = fx.dir.resolve("other-dataset");
        GeneratedSet.write(other, 16, 99, 22050, 1.0, 2, false, Duration.ofSeconds(60));
        AtomicReference<Process> w1 = new AtomicReference<>();
        AtomicReference<Process> w2 = new AtomicReference<>();
        AtomicReference<Long> lastStep = new AtomicReference<>();
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("a worker with another dataset", () -> fx.process("worker-other", worker(fx, other)), 1,
                "reads dataset \\w+, which differs from the dataset of run r",
                () -> assertEquals("WAITING_FOR_WORKERS", fx.nodeStatus().path("phase").asText())));
        rows.add(new Row("SIGTERM drains a member; the other goes on", () -> {
            w1.set(fx.started(FaultFixtures.start(fx.dir.resolve("w1.log"), worker(fx, fx.dataset))));
            w2.set(fx.started(FaultFixtures.start(fx.dir.resolve("w2.log"), worker(fx, fx.dataset))));
            until("two members past a committed checkpoint", () -> {
                JsonNode s = status(fx.http());
                return s != null && s.path("members").size() == 2 && !s.path("lastCheckpoint").isNull();
            });
            w1.get().destroy();
            assertTrue(w1.get().waitFor(120, TimeUnit.SECONDS), "the drained worker ends");
            return new Outcome(w1.get().exitValue(), "", read(fx.dir.resolve("w1.log")));
        }, 0, "drained", () -> until("one member trains on", () -> {
            JsonNode s = status(fx.http());
            return s != null && s.path("members").size() == 1 && s.path("phase").asText().equals("RUNNING");
        })));
        rows.add(new Row("SIGTERM to the last member: it checkpoints the step it holds, then leaves", () -> {
            w2.get().destroy();
            assertTrue(w2.get().waitFor(120, TimeUnit.SECONDS), "the last member ends");
            lastStep.set(lastStep(fx.dir.resolve("w2.log")));
            return new Outcome(w2.get().exitValue(), "", read(fx.dir.resolve("w2.log")));
        }, 0, "drained", () -> {
            JsonNode s = fx.nodeStatus();
            assertEquals("WAITING_FOR_WORKERS", s.path("phase").asText(), s.toString());
            assertEquals((long) lastStep.get(), s.path("lastCheckpoint").path("step").asLong(),
                    "the run waits at the step the last member held: " + s);
        }));
        rows.add(new Row("a new worker goes on from the last member's step", () -> {
            Process w3 = fx.started(FaultFixtures.start(fx.dir.resolve("w3.log"), worker(fx, fx.dataset)));
            await(fx.dir.resolve("w3.log"), Pattern.compile("step generation=\\d+ rank=0 step=\\d+"), w3);
            assertEquals(0, cli("control", "stop", "--coordinator", fx.http()).exit());
            assertTrue(w3.waitFor(60, TimeUnit.SECONDS), "the worker ends with the run");
            return new Outcome(w3.exitValue(), "", read(fx.dir.resolve("w3.log")));
        }, 0, "from checkpoint of step \\d+", () -> assertTrue(read(fx.dir.resolve("w3.log"))
                .contains("from checkpoint of step " + lastStep.get()), "it resumed at step " + lastStep.get())));
        return rows;
    }

    private static List<String> worker(FaultFixtures fx, Path dataset) {
        // no checkpoint URL: rank 0 hands its checkpoints to the coordinator over the cluster
        List<String> a = new ArrayList<>(List.of("worker", "--seed-nodes", fx.seed(), "--dataset", dataset.toString(),
                "--set", "worker.cluster.repeat-interval=500ms"));
        a.addAll(TINY);
        return a;
    }

    private static long lastStep(Path log) throws IOException {
        long last = -1;
        Matcher m = STEP.matcher(read(log));
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        return last;
    }

    /**
     * {@code clmr train --workers 1}: SIGKILL of the launcher leaves nothing running and the same command resumes;
     * a filling disk then pauses the resumed run with its reason, and {@code control resume} goes on to the end
     * once there is space. One run on a small tmpfs serves all of these (each launch is four JVMs); where mounting
     * is not allowed, the resumed run just finishes and the full-disk rows say they were skipped.
     */
    static List<Row> localCluster(FaultFixtures fx) {
        Path mount = fx.dir.resolve("cluster-disk");
        boolean disk = FaultFixtures.canMount(mount);
        Path run = disk ? mount.resolve("run") : fx.dir.resolve("local");
        List<String> train = new ArrayList<>(List.of("train", "--dataset", fx.dataset.toString(), "--workers", "1",
                "--preset", "tiny", "--batch", "4", "--epochs", "6", "--run-dir", run.toString(), "--set",
                "run.checkpoint.every-steps=4", "--set", "coordinator.plan-steps=2",
                "--set", "coordinator.min-free-disk=16M"));
        train.addAll(TINY);
        List<Row> rows = new ArrayList<>();
        List<ProcessHandle> children = new ArrayList<>();
        rows.add(new Row("SIGKILL of clmr train --workers 1 leaves nothing running", () -> {
            if (disk) {
                FaultFixtures.mountTmpfs(mount, "64m", false);
            }
            Process p = fx.started(FaultFixtures.start(fx.dir.resolve("local-1.log"), train));
            await(run.resolve("coordinator.log"), Pattern.compile("checkpoint \\d+ of step \\d+ committed"), p);
            p.toHandle().descendants().forEach(children::add);
            p.destroyForcibly();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            return new Outcome(p.exitValue(), "", read(fx.dir.resolve("local-1.log")));
        }, 137, "local cluster: coordinator", () -> {
            assertTrue(children.size() >= 3, "a coordinator, a driver and a worker: " + children);
            until("every child of the killed launcher stopped: " + children, () -> children.stream()
                    .noneMatch(ProcessHandle::isAlive));
        }));
        if (!disk) {
            rows.add(new Row("the same clmr train --workers 1 resumes and finishes", () -> fx.process("local-2", train),
                    0, "resuming run train(?s).*done: finished 6 epochs", () -> assertTrue(processesOf(run).isEmpty())));
            rows.add(new Row("a full disk under a local cluster (skipped: this process may not mount a tmpfs)",
                    () -> new Outcome(0, "", "skipped: mounting a tmpfs needs root"), 0, "skipped", Check.NOTHING));
            return rows;
        }
        rows.addAll(localFullDisk(fx, mount, run, train));
        return rows;
    }

    private static List<Row> localFullDisk(FaultFixtures fx, Path mount, Path run, List<String> train) {
        Path filler = mount.resolve("filler");
        Path log = fx.dir.resolve("local-2.log");
        AtomicReference<Process> launcher = new AtomicReference<>();
        AtomicReference<String> http = new AtomicReference<>();
        return List.of(
                new Row("the same clmr train --workers 1 resumes; a filling disk pauses it before its database runs"
                        + " out, with the reason in clmr status", () -> {
                    // filled first: on an idle machine the 18 steps end before a disk filled during the run is
                    // seen, and the pause comes at the resumed run's next checkpoint either way
                    fill(filler, 4L << 20);
                    launcher.set(fx.started(FaultFixtures.start(log, train)));
                    await(log, Pattern.compile("resuming run train"), launcher.get());
                    http.set(await(log, Pattern.compile("\\(http ([\\d.]+:\\d+)\\)"), launcher.get()));
                    until("the run paused", () -> {
                        JsonNode s = status(http.get());
                        return s != null && s.path("phase").asText().equals("PAUSED");
                    });
                    return cli("status", "--coordinator", http.get());
                }, 0, "PAUSED \\(the file system of the coordinator's database has [\\d.]+ MiB free", () -> {
                    assertTrue(launcher.get().isAlive(), "the launcher waits");
                    assertTrue(temporaries(run).isEmpty());
                }),
                new Row("with space again, control resume goes on to the end", () -> {
                    Files.delete(filler);
                    // the local cluster runs secure: control needs its throw-away token
                    List<String> resume = new ArrayList<>(List.of("control", "resume", "--coordinator", http.get()));
                    ThrowawayKeys.inRunDir(run).settingOverrides().forEach(o -> resume.addAll(List.of("--set", o)));
                    Outcome resumed = cli(resume.toArray(String[]::new));
                    assertEquals(0, resumed.exit(), resumed.text());
                    assertTrue(launcher.get().waitFor(FaultFixtures.WAIT.toSeconds(), TimeUnit.SECONDS));
                    return new Outcome(launcher.get().exitValue(), "", read(log));
                }, 0, "resuming run train(?s).*done: finished 6 epochs", () -> {
                    assertTrue(processesOf(run).isEmpty());
                    FaultFixtures.unmount(mount);
                }));
    }

    /** Fills the file system of {@code file} until {@code leave} bytes are free. */
    private static void fill(Path file, long leave) throws IOException {
        long size = Files.getFileStore(file.getParent()).getUsableSpace() - leave;
        byte[] block = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW)) {
            for (long written = 0; written < size; written += block.length) {
                out.write(block, 0, (int) Math.min(block.length, size - written));
            }
        }
    }
}
