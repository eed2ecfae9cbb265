package org.clmr.coordinator;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import akka.persistence.testkit.javadsl.PersistenceTestKit;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;
import org.clmr.protocol.cluster.CoordinatorProtocol.GetStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PauseRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumeRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A journal that cannot be written (a full disk) pauses the run instead of stopping the coordinator (issue 18):
 * the coordinator, supervised as its node runs it, fails to persist an epoch's end, restarts, and reports the run
 * PAUSED with the journal's reason in its status and metrics; operators are refused but for resume; once the
 * journal takes writes again, {@code control resume} goes on from the members' repeated reports. Akka's
 * PersistenceTestKit journal fails the write on purpose.
 */
class JournalFailureTest {
    private static ActorTestKit testKit;
    private static PersistenceTestKit journal;
    private static Config config;

    @BeforeAll
    static void startKit() {
        testKit = ActorTestKit.create(EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
        journal = PersistenceTestKit.create(testKit.system());
        config = ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8", "run.epochs=4",
                "run.checkpoint.every-steps=100", "coordinator.formation-delay=0s", "coordinator.plan-steps=50",
                "coordinator.persistence-id=journal-failure-" + UUID.randomUUID()));
    }

    @AfterAll
    static void stopKit() {
        testKit.shutdownTestKit();
    }

    @Test
    void shouldPauseTheRunWhileItsJournalCannotBeWrittenAndGoOnWhenResumed() {
        JdbcCheckpointStore store = JdbcCheckpointStore.open("jdbc:h2:mem:jf-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1", "sa", "", 2);
        JournalHealth health = new JournalHealth();
        CoordinatorMetrics metrics = new CoordinatorMetrics(Clock.systemUTC());
        ActorRef<ToCoordinator> coordinator = testKit.spawn(Coordinator.create(CoordinatorSettings.from(config), store,
                metrics, Clock.systemUTC(), health));
        TestProbe<OperatorReply> operator = testKit.createTestProbe(OperatorReply.class);
        coordinator.tell(new StartRun("run-1", RunSpec.from(config), TestWorker.DATASET, 40, operator.ref()));
        assertTrue(operator.receiveMessage().accepted());
        TestWorker a = new TestWorker(testKit.system(), "a", 100);
        coordinator.tell(a.register());
        a.next(Registered.class);
        a.next(Plan.class);

        journal.failNextPersisted();
        coordinator.tell(a.progress(1, 5));  // the end of epoch 0: its event cannot be persisted
        Status paused = awaitStatus(coordinator, s -> s.phase().equals("PAUSED"));
        assertTrue(paused.phaseReason().contains("journal could not be written")
                && paused.phaseReason().contains("EpochCompleted")
                && paused.phaseReason().contains("control resume"), paused.phaseReason());
        assertEquals(1, health.failures());
        assertEquals(1.0, gauge(metrics, "clmr_journal_write_failing"));
        coordinator.tell(new PauseRun(operator.ref()));
        OperatorReply refused = operator.receiveMessage();
        assertFalse(refused.accepted());
        assertTrue(refused.message().contains("journal"), refused.message());

        coordinator.tell(new ResumeRun(operator.ref()));
        assertTrue(operator.receiveMessage().accepted());
        Status running = awaitStatus(coordinator, s -> {
            coordinator.tell(a.progress(1, 5));  // a member at a plan boundary repeats its newest report
            return s.phase().equals("RUNNING") && s.committedStep() == 5;
        });
        assertEquals(1, running.epoch());
        assertEquals(0.0, gauge(metrics, "clmr_journal_write_failing"));
        testKit.stop(coordinator);
        store.close();
    }

    private static Status awaitStatus(ActorRef<ToCoordinator> coordinator, Predicate<Status> done) {
        TestProbe<Status> probe = testKit.createTestProbe(Status.class);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        Status last = null;
        while (System.nanoTime() < deadline) {
            coordinator.tell(new GetStatus(probe.ref()));
            try {
                last = probe.receiveMessage(Duration.ofSeconds(1));
                if (done.test(last)) {
                    return last;
                }
            } catch (AssertionError e) {
                // restarting: no answer yet
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return fail("no such status within 20 s; last " + last);
    }

    private static double gauge(CoordinatorMetrics m, String name) {
        for (var snapshot : m.registry().scrape()) {
            if (snapshot.getMetadata().getPrometheusName().equals(name)) {
                return ((io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot)
                        snapshot.getDataPoints().get(0)).getValue();
            }
        }
        throw new AssertionError("no metric " + name);
    }
}
