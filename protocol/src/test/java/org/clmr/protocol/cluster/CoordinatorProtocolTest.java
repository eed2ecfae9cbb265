package org.clmr.protocol.cluster;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.typed.ActorRef;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.HeldState;
import org.clmr.protocol.cluster.CoordinatorProtocol.StepTimes;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointFailed;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.GetStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.Leave;
import org.clmr.protocol.cluster.CoordinatorProtocol.Member;
import org.clmr.protocol.cluster.CoordinatorProtocol.MemberStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PauseRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.PeerTimeout;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.RegisterRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumeRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.clmr.protocol.wire.FrameKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every worker/coordinator/operator message survives a jackson-cbor round trip unchanged. */
class CoordinatorProtocolTest {
    private static ActorTestKit testKit;

    @BeforeAll
    static void start() {
        testKit = ActorTestKit.create();
    }

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @Test
    void shouldRoundTripEveryMessageThroughCbor() {
        SerializationTestKit kit = new SerializationTestKit(testKit.system());
        ActorRef<ToWorker> worker = testKit.<ToWorker>createTestProbe().ref();
        ActorRef<OperatorReply> operator = testKit.<OperatorReply>createTestProbe().ref();
        ActorRef<Status> statusProbe = testKit.<Status>createTestProbe().ref();
        RunSpec spec = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny")));
        CheckpointRecord record = new CheckpointRecord("run-1", 500, 3, 2, 1234, "ab".repeat(32),
                Instant.parse("2026-11-24T12:00:00Z"), spec.hash(), "jdbc:clmr_checkpoint#run-1/500");
        List<Object> messages = List.of(
                new Register(BuildInfo.protocolVersion(), "w1", "host", "NVIDIA H100 80GB", "udp://10.0.0.1:40123",
                        "c".repeat(64), 812.5, worker),
                new Register(BuildInfo.protocolVersion(), "w1", "host", "cpu", "udp://10.0.0.1:40123",
                        "c".repeat(64), 812.5, worker, new HeldState("run-1", spec.hash(), 121, "fp")),
                new RegisterRefused("w1", RefusalReason.DATASET_MISMATCH, "dataset differs"),
                new Registered("w1", "run-1", spec, 3),
                new Reconfigure("run-1", spec, 4, List.of(new Member(0, "w1", "udp://a:1", 50),
                        new Member(1, "w2", "udp://b:2", 46)), ResumePoint.fromRank(120, 1, 1), 200, FrameKey.random()),
                new Reconfigure("run-1", spec, 5, List.of(new Member(0, "w2", "udp://b:2", 96)),
                        ResumePoint.fromCheckpoint(record), 200, FrameKey.random()),
                new Reconfigure("run-1", spec, 1, List.of(new Member(0, "w2", "udp://b:2", 96)), ResumePoint.fresh(), 200,
                        FrameKey.random()),
                new Plan(4, 120, 170),
                new Progress("w1", 4, 121, 0, 5.25, 790.0, "fp"),
                new Progress("w1", 4, 122, 0, 5.2, 790.0, "fp", new StepTimes(1, 2, 3, 4, 5, 6, 21)),
                new CheckpointRequest(4, 7, 500),
                new CheckpointWritten("w1", 4, 7, record),
                new CheckpointFailed("w1", 4, 7, 500, "disk full"),
                new CheckpointCommitted(4, 7, record),
                new Leave("w1", 4, "shutdown"),
                new PeerTimeout("w2", 4, 130, List.of(0, 2)),
                new Stop("run-1", StopReason.FINISHED),
                new Stop("run-1", StopReason.DRAINED),
                new CoordinatorRestarted("akka://clmr@10.0.0.1:2551", -5213252467572468782L),
                new DrainWorker("w2", operator),
                new StartRun("run-1", spec, "c".repeat(64), 25_000, operator),
                new PauseRun(operator),
                new ResumeRun(operator),
                new StopRun(operator),
                new OperatorReply(true, "paused"),
                new GetStatus(statusProbe),
                new Status("RUNNING", "run-1", 4, List.of(new MemberStatus(0, "w1", "host", "cpu", 50, 800, 121, 5.25)),
                        List.of("w3"), 0, 121, 100, 2000, record, 12.5, "generation 4"),
                new Status("IDLE", "", 0, List.of(), List.of(), 0, 0, 0, 0, null, -1, "no run started"));
        for (Object m : messages) {
            kit.verifySerialization(m, true);
        }
        assertEquals(Enum.valueOf(RefusalReason.class, "PROTOCOL_VERSION"), RefusalReason.PROTOCOL_VERSION);
    }

    @Test
    void shouldCarryTheFrameKeyButNeverShowIt() {
        RunSpec spec = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny")));
        byte[] raw = new byte[FrameKey.LENGTH];
        java.util.Arrays.fill(raw, (byte) 0x5A);
        Reconfigure r = new Reconfigure("run-1", spec, 4, List.of(new Member(0, "w1", "udp://a:1", 50)),
                ResumePoint.fresh(), 200, FrameKey.of(raw));
        String shown = r.toString();
        assertTrue(shown.contains("frameKey=<redacted>"), shown);
        assertFalse(shown.contains("5a5a5a5a") || shown.contains("WlpaWlpa"), shown);
        SerializationTestKit kit = new SerializationTestKit(testKit.system());
        assertEquals(FrameKey.of(raw), ((Reconfigure) kit.verifySerialization(r, true)).frameKey());
        assertThrows(IllegalArgumentException.class, () -> new Reconfigure("run-1", spec, 4, List.of(),
                ResumePoint.fresh(), 200, FrameKey.NONE), "a generation without a key");
    }

    @Test
    void shouldDescribeEachKindOfResumePoint() {
        assertTrue(ResumePoint.fresh().describe().contains("fresh"));
        assertTrue(ResumePoint.fromRank(10, 0, 2).describe().contains("rank 2"));
        CheckpointRecord record = new CheckpointRecord("r", 8, 0, 1, 1, "0".repeat(64), Instant.EPOCH, "h", "loc");
        assertTrue(ResumePoint.fromCheckpoint(record).describe().contains("checkpoint of step 8"));
    }
}
