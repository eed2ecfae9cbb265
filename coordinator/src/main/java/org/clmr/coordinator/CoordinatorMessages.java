package org.clmr.coordinator;

import akka.actor.typed.ActorRef;
import org.clmr.coordinator.lifecycle.StoredRun;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;

/**
 * The messages the {@link Coordinator} sends itself (timers, results of work done off its thread, watches): they
 * never leave its JVM.
 */
final class CoordinatorMessages {
    private CoordinatorMessages() {
    }

    /** Internal: a watched worker actor terminated (its node was downed and removed, or it stopped). */
    record WorkerTerminated(String workerId, ActorRef<ToWorker> ref) implements ToCoordinator {
    }

    /** Internal: the result of reading a written checkpoint back; {@code failure} is null when it verified. */
    record CheckpointVerified(long checkpointId, CheckpointRecord record, String failure)
            implements ToCoordinator {
    }

    /** Internal, sent to itself after recovery: forget recorded workers whose nodes are not in this cluster. */
    enum CheckMembers implements ToCoordinator {
        INSTANCE
    }

    /** Internal: the peer-timeout window of this generation is over; decide on the reports gathered. */
    record DecidePeerTimeouts(long generation) implements ToCoordinator {
    }

    /** Internal: the formation delay after the first registration of a waiting run is over. */
    enum FormGeneration implements ToCoordinator {
        INSTANCE
    }

    /** Internal: what the store holds of a started run's id ({@code failure} is null when it was looked up). */
    record StartLookedUp(StartRun start, StoredRun found, String failure) implements ToCoordinator {
    }

    /** Internal: the back-off after a failed persist is over; write the journal again. */
    enum RetryJournal implements ToCoordinator {
        INSTANCE
    }
}
