package org.clmr.protocol.cluster;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointBytes;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointStored;
import org.clmr.protocol.cluster.CoordinatorProtocol.HandoffRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.PartReceived;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The checkpoint handoff's replies, whose canonical constructors are Jackson's creators, and a start's
 * {@link IfRunExists} (its own file, carried by name) survive a jackson-cbor round trip.
 */
class HandoffSerializationTest {
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
    void shouldRoundTripTheHandoffRepliesThroughCbor() {
        SerializationTestKit kit = new SerializationTestKit(testKit.system());
        CheckpointRecord record = new CheckpointRecord("run-1", 500, 3, 2, 1234, "ab".repeat(32),
                Instant.parse("2026-11-24T12:00:00Z"), "spec", "jdbc:clmr_checkpoint#run-1/500");
        for (Object m : List.of(new PartReceived(3), new CheckpointStored(record), new HandoffRefused("no"))) {
            kit.verifySerialization(m, true);
        }
        CheckpointBytes bytes = (CheckpointBytes) kit.verifySerialization(new CheckpointBytes(1, 2, new byte[]{7, 8}),
                false);
        assertArrayEquals(new byte[]{7, 8}, bytes.bytes());
    }

    @Test
    void shouldCarryIfRunExistsByName() {
        SerializationTestKit kit = new SerializationTestKit(testKit.system());
        RunSpec spec = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny")));
        for (IfRunExists e : IfRunExists.values()) {
            StartRun start = new StartRun("run-1", spec, "c".repeat(64), 100,
                    testKit.<CoordinatorProtocol.OperatorReply>createTestProbe().ref(), e);
            assertEquals(e, ((StartRun) kit.verifySerialization(start, true)).existing());
            assertEquals(e, IfRunExists.fromParameter(e.parameter()));
        }
    }
}
