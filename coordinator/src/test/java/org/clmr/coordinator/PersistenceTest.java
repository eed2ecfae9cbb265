package org.clmr.coordinator;

import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.clmr.protocol.process.JavaProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The coordinator on real databases: H2 files (the default) and a throwaway PostgreSQL cluster. A run is
 * persisted, its ActorSystem terminated, and a new one (in this JVM, or in a new JVM) recovers the same
 * state; with two coordinator nodes the singleton moves to the survivor with the same state.
 */
class PersistenceTest {
    @TempDir
    Path tmp;

    private NodeHarness.Db h2() {
        return new NodeHarness.Db("h2", "");
    }

    private NodeHarness.Db postgres(String name) throws Exception {
        var pg = LocalPostgres.shared();
        Assumptions.assumeTrue(pg.isPresent(), LocalPostgres::whyUnavailable);
        return new NodeHarness.Db("postgresql", pg.get().newDatabase(name));
    }

    @Test
    @Timeout(180)
    void shouldRecoverTheRunFromAnH2FileInANewActorSystemAndANewJvm() throws Exception {
        recoverInANewSystemAndJvm(h2());
    }

    @Test
    @Timeout(180)
    void shouldRecoverTheRunFromPostgresInANewActorSystemAndANewJvm() throws Exception {
        recoverInANewSystemAndJvm(postgres("recover"));
    }

    @Test
    @Timeout(180)
    void shouldMoveTheSingletonToTheOtherCoordinatorNodeWithTheSameStateOnH2() throws Exception {
        failover(h2());
    }

    @Test
    @Timeout(180)
    void shouldMoveTheSingletonToTheOtherCoordinatorNodeWithTheSameStateOnPostgres() throws Exception {
        failover(postgres("failover"));
    }

    private void recoverInANewSystemAndJvm(NodeHarness.Db db) throws Exception {
        Path runDir = tmp.resolve("run");
        String before;
        CheckpointRecord record;
        try (CoordinatorNode node = NodeHarness.start(db, runDir)) {
            record = NodeHarness.runToACommittedCheckpoint(node, node);
            Status status = NodeHarness.status(node);
            assertEquals("RUNNING", status.phase());
            before = NodeHarness.durable(status);
        }
        try (CoordinatorNode node = NodeHarness.start(db, runDir)) {
            Status status = NodeHarness.status(node);
            assertEquals(before, NodeHarness.durable(status));
            assertEquals(record, status.lastCheckpoint());
            assertEquals(record.sizeBytes(), node.checkpointStore().read(status.lastCheckpoint()).length);
        }
        Process child = JavaProcess.of(PrintRecoveredStatus.class).maxHeap("384m").pipeOutput()
                .args(runDir.toString(), db.kind(), db.url()).start();
        String out;
        try {
            out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child coordinator JVM did not finish");
        } finally {
            child.destroyForcibly();
        }
        String line = out.lines().filter(l -> l.startsWith(PrintRecoveredStatus.MARK)).findFirst()
                .orElseThrow(() -> new AssertionError("child printed no status:\n" + out));
        assertEquals(before, line.substring(PrintRecoveredStatus.MARK.length()), out);
    }

    private void failover(NodeHarness.Db db) throws Exception {
        Path runDir = tmp.resolve("shared");
        try (CoordinatorNode first = NodeHarness.start(db, runDir)) {
            String seed = first.address().toString();
            try (CoordinatorNode second = NodeHarness.start(db, runDir, "coordinator.cluster.seed-nodes=[\"" + seed + "\"]")) {
                awaitUp(second, 2);
                NodeHarness.runToACommittedCheckpoint(first, second);
                Status status = NodeHarness.status(first);
                String before = NodeHarness.durable(status);
                first.close();
                Status after = NodeHarness.status(second);
                assertEquals(before, NodeHarness.durable(after));
                assertEquals(1, after.members().size(), "the worker on the surviving node is still a member");
                assertEquals("RUNNING", after.phase());
            }
        }
    }

    private static void awaitUp(CoordinatorNode node, int members) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            long up = 0;
            for (akka.cluster.Member m : Cluster.get(node.system()).state().getMembers()) {
                if (m.status() == MemberStatus.up()) {
                    up++;
                }
            }
            if (up >= members) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("cluster did not reach " + members + " members");
    }

    /** Child-JVM entry: starts a coordinator node on the run directory, prints the durable status, stops. */
    public static final class PrintRecoveredStatus {
        static final String MARK = "RECOVERED ";

        public static void main(String[] args) {
            NodeHarness.Db db = new NodeHarness.Db(args[1], args.length > 2 ? args[2] : "");
            try (CoordinatorNode node = NodeHarness.start(db, Path.of(args[0]))) {
                System.out.println(MARK + NodeHarness.durable(NodeHarness.status(node)));
            }
            System.exit(0);
        }
    }
}
