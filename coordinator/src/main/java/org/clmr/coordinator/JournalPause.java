package org.clmr.coordinator;

import org.clmr.coordinator.CoordinatorMessages.RetryJournal;
import org.clmr.coordinator.desk.Decision;
import org.clmr.protocol.cluster.CoordinatorProtocol.GetStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorCommand;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumeRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;

import java.util.function.Supplier;

/**
 * The desk for a journal that cannot be written ({@link JournalHealth}): the run is paused in memory, the status
 * says why, operators are refused but for resume, and every other command is dropped (workers repeat theirs). A
 * resume, or the back-off's end ({@link RetryJournal}), writes the journal again: the shell then starts a new
 * incarnation that goes on from the repeated reports. Stateless; coordinator actor's thread.
 */
final class JournalPause {
    private JournalPause() {
    }

    /**
     * What to do with a command while the journal cannot be written.
     *
     * @param decision what to reply or log
     * @param retry    whether to write the journal again, in a new incarnation
     */
    record Heard(Decision decision, boolean retry) {
    }

    /**
     * Decides on {@code c} while the run is paused for {@code failure}.
     *
     * @param status the run's status as it would be shown without the failure
     */
    static Heard hear(JournalHealth.Failure failure, ToCoordinator c, Supplier<Status> status) {
        String why = failure.why();
        if (c instanceof GetStatus g) {
            return new Heard(Decision.none().reply(g.replyTo(), StatusView.pausedBy(status.get(), why)), false);
        }
        if (c instanceof ResumeRun || c instanceof RetryJournal) {
            Decision d = Decision.none().info("writing the journal again (" + c + "); the members go on from their"
                    + " repeated reports");
            return new Heard(c instanceof ResumeRun r ? d.reply(r.replyTo(), new OperatorReply(true, "resumed: writing"
                    + " the journal again; if it still cannot be written, the run pauses again")) : d, true);
        }
        Decision refused = c instanceof OperatorCommand o
                ? Decision.none().reply(o.replyTo(), new OperatorReply(false, why)) : Decision.none();
        return new Heard(refused, false);
    }
}
