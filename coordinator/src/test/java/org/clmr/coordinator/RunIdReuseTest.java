package org.clmr.coordinator;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.RunPhase;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;
import org.clmr.protocol.checkpoint.RetentionPolicy;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.IfRunExists;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run id is never reused silently (issue 18): stopping run-1 and starting run-1 again is refused, saying what
 * exists and how to go on; {@code RESUME} goes on from its newest checkpoint; {@code FRESH_KEEP} starts at step 0
 * with the old checkpoints moved to run-1.archived-1, where the new run's retention does not touch them;
 * {@code FRESH_DROP} deletes them. Through EventSourcedBehaviorTestKit with a real JDBC store on H2; the run:
 * global batch 8, 40 tracks (5 steps per epoch), 4 epochs, a checkpoint every 4 steps, keep-last 2.
 */
class RunIdReuseTest {
    private static ActorTestKit testKit;
    private static Config config;

    private EventSourcedBehaviorTestKit<ToCoordinator, CoordinatorEvent, CoordinatorState> kit;
    private JdbcCheckpointStore store;
    private RunSpec spec;

    @BeforeAll
    static void startKit() {
        testKit = ActorTestKit.create(EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
        config = ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8", "run.epochs=4",
                "run.checkpoint.every-steps=4", "run.checkpoint.keep-last=2", "coordinator.formation-delay=0s"));
    }

    @AfterAll
    static void stopKit() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void stoppedRunWithCheckpoints() {
        store = JdbcCheckpointStore.open("jdbc:h2:mem:reuse-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 2);
        spec = RunSpec.from(config);
        kit = EventSourcedBehaviorTestKit.create(testKit.system(), Coordinator.create(CoordinatorSettings.from(config),
                store, new CoordinatorMetrics(Clock.systemUTC()), Clock.systemUTC()));
        assertTrue(start(IfRunExists.REFUSE).accepted());
        write(4);
        write(8);
        assertTrue(kit.<OperatorReply>runCommand(StopRun::new).reply().accepted());
    }

    @AfterEach
    void closeStore() {
        kit.clear();
        store.close();
    }

    private OperatorReply start(IfRunExists existing) {
        return kit.<OperatorReply>runCommand(r -> new StartRun("run-1", spec, TestWorker.DATASET, 40, r, existing))
                .reply();
    }

    private CheckpointRecord write(long step) {
        return store.write("run-1", step, (int) (step / 5), 1, spec.hash(),
                ("weights at " + step).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldRefuseToStartAnExistingRunIdSayingHowToResumeOrStartAfresh() {
        OperatorReply again = start(IfRunExists.REFUSE);
        assertFalse(again.accepted());
        assertTrue(again.message().contains("run run-1 exists") && again.message().contains("2 checkpoints (steps 4..8)")
                && again.message().contains("--resume") && again.message().contains("--fresh keep")
                && again.message().contains("--fresh drop"), again.message());
        assertEquals(RunPhase.COMPLETED, kit.getState().phase());
        assertEquals(2, store.list("run-1").size(), "nothing of the run was touched");
    }

    @Test
    void shouldResumeAnExistingRunFromItsNewestCheckpoint() {
        OperatorReply resumed = start(IfRunExists.RESUME);
        assertTrue(resumed.accepted() && resumed.message().contains("step 8"), resumed.message());
        assertEquals(8, kit.getState().run().orElseThrow().committedStep());
        TestWorker a = new TestWorker(testKit.system(), "a", 100);
        kit.runCommand(a.register());
        assertEquals(ResumePoint.fromCheckpoint(store.find("run-1", 8).orElseThrow()),
                a.next(Reconfigure.class).resume());
    }

    @Test
    void shouldRefuseToResumeUnderAnotherRunSpecOrWhenNothingExists() {
        RunSpec other = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8",
                "run.epochs=5")));
        OperatorReply wrongSpec = kit.<OperatorReply>runCommand(r -> new StartRun("run-1", other, TestWorker.DATASET,
                40, r, IfRunExists.RESUME)).reply();
        assertFalse(wrongSpec.accepted());
        assertTrue(wrongSpec.message().contains("RunSpec"), wrongSpec.message());
        OperatorReply none = kit.<OperatorReply>runCommand(r -> new StartRun("run-9", spec, TestWorker.DATASET, 40, r,
                IfRunExists.RESUME)).reply();
        assertFalse(none.accepted());
        assertTrue(none.message().contains("no run run-9"), none.message());
    }

    @Test
    void shouldStartAfreshKeepingTheOldCheckpointsOutOfTheNewRunsRetention() {
        OperatorReply fresh = start(IfRunExists.FRESH_KEEP);
        assertTrue(fresh.accepted() && fresh.message().contains("run-1.archived-1"), fresh.message());
        assertEquals(0, kit.getState().run().orElseThrow().committedStep());
        assertNull(kit.getState().run().orElseThrow().lastCheckpoint());
        assertTrue(store.list("run-1").isEmpty());
        assertEquals(List.of(4L, 8L), store.list("run-1.archived-1").stream().map(CheckpointRecord::step).toList());
        write(4);
        store.prune("run-1", RetentionPolicy.of(spec.checkpoint()));
        assertEquals(List.of(4L), store.list("run-1").stream().map(CheckpointRecord::step).toList(),
                "the new run's first checkpoint is kept: the old ones are not its own");
    }

    @Test
    void shouldStartAfreshDroppingTheOldCheckpoints() {
        OperatorReply fresh = start(IfRunExists.FRESH_DROP);
        assertTrue(fresh.accepted() && fresh.message().contains("deleted"), fresh.message());
        assertTrue(store.list("run-1").isEmpty());
        assertTrue(store.list("run-1.archived-1").isEmpty());
    }
}
