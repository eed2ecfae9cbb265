package org.clmr.coordinator;

import akka.actor.typed.ActorRef;
import com.typesafe.config.Config;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.GetStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.config.ClmrConfig;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Starts coordinator nodes on a database and drives a run to a committed checkpoint (shared by the persistence suites). */
final class NodeHarness {
    private NodeHarness() {
    }

    /** A database the suites run against. */
    record Db(String kind, String url) {
        List<String> sets() {
            List<String> s = new ArrayList<>(List.of("coordinator.database.kind=" + kind));
            if (!url.isEmpty()) {
                s.add("coordinator.database.url=\"" + url + "\"");
                s.add("coordinator.database.user=clmr");
            }
            return s;
        }
    }

    static Config config(Db db, String... more) {
        List<String> sets = new ArrayList<>(List.of("run.model.preset=tiny", "run.global-batch=8", "run.epochs=4",
                "run.checkpoint.every-steps=4", "coordinator.formation-delay=0s", "coordinator.cluster.port=0",
                "coordinator.http.port=0", "coordinator.snapshot-every-events=3"));
        sets.addAll(db.sets());
        sets.addAll(List.of(more));
        return ClmrConfig.load(null, sets);
    }

    static CoordinatorNode start(Db db, Path runDir, String... more) {
        return CoordinatorNode.start(config(db, more), runDir);
    }

    /** Asks, retrying while the singleton is still starting. */
    static <R> R ask(CoordinatorNode node, Function<ActorRef<R>, ToCoordinator> message) {
        UserError last = null;
        for (int attempt = 0; attempt < 12; attempt++) {
            try {
                return node.ask(message);
            } catch (UserError e) {
                last = e;
            }
        }
        throw last;
    }

    /**
     * Starts a run, registers a worker living in {@code workerNode}'s system, runs it to step 4 and commits
     * the checkpoint rank 0 writes there.
     */
    static CheckpointRecord runToACommittedCheckpoint(CoordinatorNode node, CoordinatorNode workerNode) {
        OperatorReply started = ask(node, r -> new StartRun("run-p", node.spec(), TestWorker.DATASET, 40, r));
        assertTrue(started.accepted(), started.message());
        TestWorker w = new TestWorker(workerNode.system(), "w-" + System.nanoTime(), 100);
        // the worker talks through its own node's proxy, as a real one does (its refs then cross the wire)
        workerNode.coordinator().tell(w.register());
        w.next(Registered.class);
        for (int step = 1; step <= 4; step++) {
            workerNode.coordinator().tell(w.progress(1, step));
        }
        CheckpointRequest request = w.next(CheckpointRequest.class);
        CheckpointRecord record = workerNode.checkpointStore().write("run-p", request.step(), 0, request.generation(),
                node.spec().hash(), "weights and moments".getBytes(StandardCharsets.UTF_8));
        workerNode.coordinator().tell(new CheckpointWritten(w.id, request.generation(), request.checkpointId(), record));
        assertEquals(record, w.next(CheckpointCommitted.class).record());
        return record;
    }

    /** The durable part of a status: what must survive a restart, a new JVM or a failover. */
    static String durable(Status s) {
        return s.runId() + " generation=" + s.generation() + " committedStep=" + s.committedStep() + " total="
                + s.totalSteps() + " checkpoint=" + (s.lastCheckpoint() == null ? "none"
                : s.lastCheckpoint().step() + "/" + s.lastCheckpoint().sha256());
    }

    static Status status(CoordinatorNode node) {
        return ask(node, GetStatus::new);
    }

}
