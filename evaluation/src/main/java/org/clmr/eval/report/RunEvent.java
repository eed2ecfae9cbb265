package org.clmr.eval.report;

import java.time.Instant;

/**
 * Something that happened to a training run and that its report marks on the plots: a generation starting, a
 * worker removed, a checkpoint committed, a pause. Built from the coordinator's history (a cluster run) or the
 * checkpoint directory ({@code clmr train}).
 *
 * @param at      when
 * @param step    the step it happened at (a generation's resume step, a checkpoint's step), or -1 when unknown
 * @param kind    what
 * @param label   one line: what and why (a generation's reason, a removal's worker and reason)
 * @param members members after it (a generation, a removal), or -1
 */
public record RunEvent(Instant at, long step, Kind kind, String label, int members) {

    /** What a run event is. */
    public enum Kind {
        /** The run started. */
        STARTED,
        /** A membership generation started. */
        GENERATION,
        /** A worker was removed. */
        REMOVAL,
        /** A checkpoint was committed. */
        CHECKPOINT,
        /** The run was paused. */
        PAUSE,
        /** The run was resumed. */
        RESUME,
        /** The run finished or was stopped. */
        COMPLETED
    }
}
