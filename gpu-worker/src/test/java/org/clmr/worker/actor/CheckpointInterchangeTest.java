package org.clmr.worker.actor;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.Config;
import org.clmr.data.DataSettings;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.checkpoint.DirectoryCheckpointStore;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.Member;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.metrics.WorkerMetrics;
import org.clmr.worker.train.PipelineViewSource;
import org.clmr.worker.train.TrainListener;
import org.clmr.worker.train.TrainSettings;
import org.clmr.worker.train.Trainer;
import org.clmr.protocol.wire.FrameKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two drivers of the one training loop write interchangeable checkpoints: {@code clmr train}'s
 * {@link Trainer} and a cluster worker (its {@link WorkerActor} and training thread over a real Aeron
 * transport, a probe in the coordinator's place, a real directory store) carry the same config hash for the
 * same spec and data, whatever the dataset's path or the worker's port, and each resumes from the other's
 * checkpoint onto the uninterrupted run's losses and weights.
 */
@Timeout(180)
class CheckpointInterchangeTest {
    private static final String RUN = "interchange";
    private static final int STEPS = 7;
    private static final int RESUME_AT = 4;
    private static ActorTestKit kit;
    private static Path dataset;
    private static Path datasetCopy;
    private static long stepsPerEpoch;
    private static Straight straight;

    /** The uninterrupted single-process run. */
    private record Straight(List<Double> losses, String fingerprint, CheckpointRecord atResume, Path store) {
    }

    @BeforeAll
    static void start() throws Exception {
        kit = ActorTestKit.create();
        Path root = Files.createTempDirectory("clmr-interchange-");
        dataset = root.resolve("ds");
        GeneratedSet.write(dataset, 16, 5, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        datasetCopy = root.resolve("elsewhere").resolve("ds");
        copy(dataset, datasetCopy);
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            stepsPerEpoch = PretrainView.of(ds, false).size() / RunSpec.from(config()).globalBatch();
        }
        Path store = root.resolve("straight");
        try (PipelineViewSource source = PipelineViewSource.open(dataset, RunSpec.from(config()), DataSettings.from(config()));
             Trainer t = trainer(source, store)) {
            Trainer.Summary s = t.run(STEPS);
            CheckpointRecord atResume = new DirectoryCheckpointStore(store).find(RUN, RESUME_AT).orElseThrow();
            straight = new Straight(s.losses(), s.fingerprint(), atResume, store);
        }
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    private static Config config() {
        return ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.model.projection-dim=16",
                "run.global-batch=4", "run.checkpoint.every-steps=" + RESUME_AT, "run.checkpoint.keep-last=10",
                "worker.threads=1"));
    }

    private static Trainer trainer(PipelineViewSource source, Path store) {
        Config c = config();
        return new Trainer(RunSpec.from(c), TrainSettings.from(c), source, new DirectoryCheckpointStore(store), RUN,
                new TrainListener() { });
    }

    @Test
    void shouldResumeClmrTrainFromAWorkersCheckpointWithTheSameConfigHashAndLosses(@TempDir Path dir)
            throws Exception {
        assertTrue(RESUME_AT > stepsPerEpoch && RESUME_AT % stepsPerEpoch != 0, "resumes within a later epoch");
        CheckpointStore store = new DirectoryCheckpointStore(dir);
        CheckpointRecord written;
        try (Worker w = Worker.start(store, datasetCopy)) {
            w.ref().tell(reconfigure(w, ResumePoint.fresh()));
            w.ref().tell(new Plan(1, 0, RESUME_AT));
            assertEquals(straight.losses().subList(0, RESUME_AT), w.losses(1, RESUME_AT), "the worker's own steps");
            w.ref().tell(new CheckpointRequest(1, 1, RESUME_AT));
            written = w.checkpointWritten().record();
        }
        assertEquals(configHash(new DirectoryCheckpointStore(straight.store()), straight.atResume()),
                configHash(store, written), "clmr train and a worker write the same config hash");
        assertNotEquals(RunSpec.from(config()).hash(), configHash(store, written), "the data is part of it");

        List<Double> losses = new ArrayList<>();
        try (PipelineViewSource source = PipelineViewSource.open(dataset, RunSpec.from(config()), DataSettings.from(config()));
             Trainer t = trainer(source, dir)) {
            assertEquals(RESUME_AT, t.completedSteps(), "resumed from the worker's checkpoint");
            Trainer.Summary s = t.run(STEPS);
            losses.addAll(s.losses());
            assertEquals(straight.fingerprint(), s.fingerprint());
        }
        assertEquals(straight.losses().subList(RESUME_AT, STEPS), losses);
    }

    @Test
    void shouldAdoptAGenerationWhoseResumePointIsClmrTrainsCheckpoint() throws Exception {
        CheckpointStore store = new DirectoryCheckpointStore(straight.store());
        try (Worker w = Worker.start(store, datasetCopy)) {
            w.ref().tell(reconfigure(w, ResumePoint.fromCheckpoint(straight.atResume())));
            w.ref().tell(new Plan(1, RESUME_AT, STEPS));
            List<Progress> steps = w.progress(RESUME_AT + 1, STEPS);
            assertEquals(straight.losses().subList(RESUME_AT, STEPS), steps.stream().map(Progress::loss).toList());
            assertEquals(straight.fingerprint(), steps.get(steps.size() - 1).weightsFingerprint());
        }
    }

    private static Reconfigure reconfigure(Worker w, ResumePoint resume) {
        return new Reconfigure(RUN, RunSpec.from(config()), 1,
                List.of(new Member(0, w.id().workerId(), w.id().aeronEndpoint(), 4)), resume, stepsPerEpoch,
                FrameKey.random());
    }

    private static String configHash(CheckpointStore store, CheckpointRecord record) {
        return CheckpointPayload.decode(store.read(record)).configHash();
    }

    /** A worker actor and its training thread, with a probe for the coordinator. */
    private record Worker(ActorRef<ToWorker> ref, StepLoop loop, AeronTransport transport,
                          TestProbe<ToCoordinator> coordinator, WorkerActor.Identity id) implements AutoCloseable {

        static Worker start(CheckpointStore store, Path datasetDir) throws Exception {
            Config c = config();
            int port;
            try (DatagramSocket s = new DatagramSocket(0)) {
                port = s.getLocalPort();
            }
            AeronTransport transport = AeronTransport.start(AeronSettings.from(c).with(true, "", false,
                    "127.0.0.1:" + port));
            TestProbe<ToCoordinator> coordinator = kit.createTestProbe();
            WorkerActor.Identity id = new WorkerActor.Identity("w-" + port, "127.0.0.1", "cpu", "127.0.0.1:" + port,
                    "hash", 10);
            AtomicReference<ActorRef<ToWorker>> self = new AtomicReference<>();
            StepLoop loop = new StepLoop(id.workerId(), transport, store, datasetDir, DataSettings.from(c),
                    TrainSettings.from(c), o -> self.get().tell(WorkerActor.outcome(o)));
            self.set(kit.spawn(WorkerActor.create(coordinator.getRef(), id, loop, WorkerMetrics.standalone(),
                    Duration.ofMillis(200), line -> { }, new CompletableFuture<>())));
            return new Worker(self.get(), loop, transport, coordinator, id);
        }

        /** The progress reports of steps [first, last], in order (the repeats at a plan boundary skipped). */
        List<Progress> progress(long first, long last) {
            List<Progress> out = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (out.size() < last - first + 1 && System.nanoTime() < deadline) {
                if (coordinator.receiveMessage(Duration.ofSeconds(60)) instanceof Progress p
                        && p.step() == first + out.size()) {
                    out.add(p);
                }
            }
            assertEquals(last - first + 1, out.size(), "progress of steps " + first + " to " + last);
            return out;
        }

        /** The next checkpoint written (progress repeated at the plan boundary skipped). */
        CheckpointWritten checkpointWritten() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                if (coordinator.receiveMessage(Duration.ofSeconds(30)) instanceof CheckpointWritten c) {
                    return c;
                }
            }
            throw new AssertionError("no checkpoint written");
        }

        List<Double> losses(long first, long last) {
            return progress(first, last).stream().map(Progress::loss).toList();
        }

        @Override
        public void close() {
            loop.close();
            transport.close();
        }
    }

    private static void copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.sorted(Comparator.naturalOrder()).toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
    }
}
