package org.clmr.worker.actor;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.typesafe.config.Config;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import org.clmr.data.DataSettings;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.checkpoint.DirectoryCheckpointStore;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.Leave;
import org.clmr.protocol.cluster.CoordinatorProtocol.Member;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.RegisterRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.metrics.WorkerMetrics;
import org.clmr.worker.train.TrainSettings;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker actor with its real training thread (one rank over a real Aeron transport, a generated
 * dataset, a directory checkpoint store) against a probe in the coordinator's place.
 */
@Timeout(120)
class WorkerActorTest {
    private static ActorTestKit kit;
    private static Path dataset;
    private static String hash;
    private static int items;

    @BeforeAll
    static void start() throws Exception {
        kit = ActorTestKit.create();
        dataset = Files.createTempDirectory("clmr-worker-actor-").resolve("ds");
        GeneratedSet.write(dataset, 16, 3, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            hash = ds.contentHash();
            items = PretrainView.of(ds, false).size();
        }
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    private static Config config() {
        return ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.model.projection-dim=16",
                "run.global-batch=4", "worker.threads=1"));
    }

    private record Worker(ActorRef<ToWorker> ref, StepLoop loop, AeronTransport transport,
                          CompletableFuture<String> finished, WorkerActor.Identity id) implements AutoCloseable {
        @Override
        public void close() {
            loop.close();
            transport.close();
        }
    }

    private static Worker worker(TestProbe<ToCoordinator> coordinator, Path checkpoints, String datasetHash)
            throws Exception {
        return worker(coordinator, checkpoints, datasetHash, WorkerMetrics.standalone());
    }

    private static Worker worker(TestProbe<ToCoordinator> coordinator, Path checkpoints, String datasetHash,
                                 WorkerMetrics metrics) throws Exception {
        Config c = config();
        int port;
        try (DatagramSocket s = new DatagramSocket(0)) {
            port = s.getLocalPort();
        }
        AeronSettings as = AeronSettings.from(c);
        AeronTransport transport = AeronTransport.start(as.with(true, "", false, "127.0.0.1:" + port));
        AtomicReference<ActorRef<ToWorker>> self = new AtomicReference<>();
        WorkerActor.Identity id = new WorkerActor.Identity("w0", "127.0.0.1", "cpu", "127.0.0.1:" + port,
                datasetHash, 10);
        StepLoop loop = new StepLoop(id.workerId(), transport, new DirectoryCheckpointStore(checkpoints), dataset,
                DataSettings.from(c), TrainSettings.from(c), o -> self.get().tell(WorkerActor.outcome(o)));
        CompletableFuture<String> finished = new CompletableFuture<>();
        self.set(kit.spawn(WorkerActor.create(coordinator.getRef(), id, loop, metrics, Duration.ofMillis(200),
                line -> { }, finished)));
        return new Worker(self.get(), loop, transport, finished, id);
    }

    @Test
    void shouldWaitForARunThenTrainItsPlanRepeatProgressAtTheBoundaryAndWriteACheckpoint(@TempDir Path dir)
            throws Exception {
        TestProbe<ToCoordinator> coordinator = kit.createTestProbe();
        try (Worker w = worker(coordinator, dir, hash)) {
            Register first = coordinator.expectMessageClass(Register.class, Duration.ofSeconds(10));
            assertEquals(BuildInfo.protocolVersion(), first.protocolVersion());
            assertEquals(hash, first.datasetHash());
            first.replyTo().tell(new RegisterRefused("w0", RefusalReason.NO_RUN, "no run"));
            coordinator.expectMessageClass(Register.class, Duration.ofSeconds(5));

            RunSpec spec = RunSpec.from(config());
            // Reconfigure may arrive before Registered: it is a registration's answer too.
            w.ref().tell(new Reconfigure("r1", spec, 1, List.of(new Member(0, "w0", w.id().aeronEndpoint(), 4)),
                    ResumePoint.fresh(), items / 4, FrameKey.random()));
            w.ref().tell(new Plan(1, 0, 2));
            Progress p1 = expectProgress(coordinator, 1);
            Progress p2 = expectProgress(coordinator, 2);
            assertTrue(Double.isFinite(p1.loss()) && Double.isFinite(p2.loss()));
            assertEquals(p2, expectProgress(coordinator, 2), "the last progress is repeated at the plan boundary");

            w.ref().tell(new CheckpointRequest(1, 7, 2));
            CheckpointWritten written = expectPast(coordinator, CheckpointWritten.class);
            assertEquals(7, written.checkpointId());
            assertEquals(2, written.record().step());
            CheckpointPayload payload = CheckpointPayload.decode(new DirectoryCheckpointStore(dir).read(written.record()));
            assertEquals(2, payload.step());
            assertEquals(spec.hash(), payload.runSpecHash());

            w.ref().tell(new Stop("r1", StopReason.FINISHED));
            assertNull(w.finished().get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldGiveUpWithTheCoordinatorsLineWhenItsDatasetIsRefused(@TempDir Path dir) throws Exception {
        TestProbe<ToCoordinator> coordinator = kit.createTestProbe();
        try (Worker w = worker(coordinator, dir, "other-hash")) {
            Register r = coordinator.expectMessageClass(Register.class, Duration.ofSeconds(10));
            r.replyTo().tell(new RegisterRefused("w0", RefusalReason.DATASET_MISMATCH, "worker w0 reads dataset other-hash"));
            assertEquals("worker w0 reads dataset other-hash", w.finished().get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldExportEveryPhaseItPassesThroughFromRegisteringToDrained(@TempDir Path dir) throws Exception {
        TestProbe<ToCoordinator> coordinator = kit.createTestProbe();
        WorkerMetrics metrics = WorkerMetrics.standalone();
        try (Worker w = worker(coordinator, dir, hash, metrics)) {
            Register r = coordinator.expectMessageClass(Register.class, Duration.ofSeconds(10));
            assertEquals("registering", phase(metrics));
            r.replyTo().tell(new RegisterRefused("w0", RefusalReason.NO_RUN, "no run"));
            awaitPhase(metrics, "waiting_for_run");
            RunSpec spec = RunSpec.from(config());
            r.replyTo().tell(new Registered("w0", "r1", spec, 0));
            awaitPhase(metrics, "registered");

            w.ref().tell(new Reconfigure("r1", spec, 1, List.of(new Member(0, "w0", w.id().aeronEndpoint(), 4)),
                    ResumePoint.fresh(), items / 4, FrameKey.random()));
            w.ref().tell(new Plan(1, 0, 1));
            expectProgress(coordinator, 1);
            awaitPhase(metrics, "at_boundary");

            w.ref().tell(WorkerActor.drain());
            DrainWorker drain = null;
            while (drain == null) {
                if (coordinator.receiveMessage(Duration.ofSeconds(10)) instanceof DrainWorker d) {
                    drain = d;
                }
            }
            assertEquals("draining", phase(metrics));
            drain.replyTo().tell(new OperatorReply(true, "w0 leaves at the next plan boundary"));
            awaitPhase(metrics, "drain_accepted");
            w.ref().tell(new Stop("r1", StopReason.DRAINED));
            assertNull(w.finished().get(10, TimeUnit.SECONDS));
            assertEquals("finished", phase(metrics));
        }
    }

    @Test
    void shouldLeaveTheGenerationAndRegisterAgainWhenItsAeronClientClosedItself(@TempDir Path dir) throws Exception {
        TestProbe<ToCoordinator> coordinator = kit.createTestProbe();
        WorkerMetrics metrics = WorkerMetrics.standalone();
        try (Worker w = worker(coordinator, dir, hash, metrics)) {
            Register r = coordinator.expectMessageClass(Register.class, Duration.ofSeconds(10));
            RunSpec spec = RunSpec.from(config());
            r.replyTo().tell(new Registered("w0", "r1", spec, 0));
            w.ref().tell(new Reconfigure("r1", spec, 1, List.of(new Member(0, "w0", w.id().aeronEndpoint(), 4)),
                    ResumePoint.fresh(), items / 4, FrameKey.random()));
            w.ref().tell(new Plan(1, 0, 1));
            expectProgress(coordinator, 1);

            w.ref().tell(WorkerActor.outcome(new StepLoop.Rejoin(1, "the Aeron client closed itself (starved)")));
            Leave leave = expect(coordinator, Leave.class);
            assertEquals(1, leave.generation());
            assertEquals("w0", leave.workerId());
            expect(coordinator, Register.class);
            assertFalse(w.finished().isDone(), "a worker whose client closed itself stays in the cluster");
            assertEquals("registering", phase(metrics));

            w.ref().tell(new Reconfigure("r1", spec, 2, List.of(new Member(0, "w0", w.id().aeronEndpoint(), 4)),
                    ResumePoint.fresh(), items / 4, FrameKey.random()));
            w.ref().tell(new Plan(2, 0, 1));
            assertEquals(2, expectProgress(coordinator, 1).generation());
            w.ref().tell(new Stop("r1", StopReason.FINISHED));
            assertNull(w.finished().get(10, TimeUnit.SECONDS));
        }
    }

    private static <T extends ToCoordinator> T expect(TestProbe<ToCoordinator> coordinator, Class<T> type) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            ToCoordinator m = coordinator.receiveMessage(Duration.ofSeconds(30));
            if (type.isInstance(m)) {
                return type.cast(m);
            }
        }
        throw new AssertionError("no " + type.getSimpleName());
    }

    /** The one phase whose gauge is 1. */
    private static String phase(WorkerMetrics metrics) {
        List<String> current = new ArrayList<>();
        for (MetricSnapshot snapshot : metrics.registry().scrape()) {
            if (snapshot.getMetadata().getPrometheusName().equals("clmr_worker_phase")) {
                for (DataPointSnapshot point : snapshot.getDataPoints()) {
                    if (((GaugeSnapshot.GaugeDataPointSnapshot) point).getValue() == 1) {
                        current.add(point.getLabels().get("phase"));
                    }
                }
            }
        }
        assertEquals(1, current.size(), "phases at 1: " + current);
        return current.get(0);
    }

    private static void awaitPhase(WorkerMetrics metrics, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!phase(metrics).equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, phase(metrics));
    }

    /**
     * The next message of {@code type}, past the progress the worker repeats every 200 ms at a plan boundary (a
     * checkpoint written on a loaded machine takes longer than that).
     */
    private static <T extends ToCoordinator> T expectPast(TestProbe<ToCoordinator> coordinator, Class<T> type) {
        ToCoordinator m = coordinator.receiveMessage(Duration.ofSeconds(20));
        while (m instanceof Progress && !type.isInstance(m)) {
            m = coordinator.receiveMessage(Duration.ofSeconds(20));
        }
        assertTrue(type.isInstance(m), "expected a " + type.getSimpleName() + ", got " + m);
        return type.cast(m);
    }

    private static Progress expectProgress(TestProbe<ToCoordinator> coordinator, long step) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            ToCoordinator m = coordinator.receiveMessage(Duration.ofSeconds(30));
            if (m instanceof Progress p && p.step() == step) {
                return p;
            }
        }
        throw new AssertionError("no progress of step " + step);
    }
}
