package org.clmr.coordinator.plan;

import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where a new generation starts: from the newest verified state a member holds in memory, else from the
 * newest committed checkpoint, else fresh from the run's seed. Pure; the coordinator gathers the inputs.
 *
 * <p>A member's state is what it last reported in any generation of the run (or, when it has not reported
 * to this coordinator incarnation, what it declared when it registered). Every holder of step {@code s}
 * must hold the same weights; a step whose holders disagree on the fingerprint is not verified and is
 * passed over (the next lower verified one, or the checkpoint, wins). A member state at least as new as
 * the checkpoint wins over it: state transfer is cheaper than loading and loses nothing.
 */
final class ResumeChoice {
    private ResumeChoice() {
    }

    /**
     * A member's claim to hold the state after {@code step} steps.
     *
     * @param rank        its rank in the new generation
     * @param step        steps completed by the state it holds
     * @param fingerprint weights fingerprint of that state
     */
    record Held(int rank, long step, String fingerprint) {
    }

    /** The decision, with the steps passed over because their holders disagree (for the log). */
    record Choice(ResumePoint resume, List<Long> contradicted) {
    }

    /**
     * Chooses the resume point.
     *
     * @param held          one claim per member that holds state (ranks of the new generation)
     * @param checkpoint    the newest committed checkpoint, or null
     * @param stepsPerEpoch to name the resume step's epoch
     */
    static Choice choose(List<Held> held, CheckpointRecord checkpoint, long stepsPerEpoch) {
        Map<Long, String> fingerprintOf = new HashMap<>();
        Map<Long, Integer> holderOf = new HashMap<>();
        Set<Long> contradicted = new TreeSet<>();
        for (Held h : held) {
            if (h.step() <= 0) {
                continue;
            }
            String seen = fingerprintOf.putIfAbsent(h.step(), h.fingerprint());
            if (seen != null && !seen.equals(h.fingerprint())) {
                contradicted.add(h.step());
            }
            holderOf.merge(h.step(), h.rank(), Math::min);
        }
        Optional<Long> best = holderOf.keySet().stream().filter(s -> !contradicted.contains(s))
                .max(Long::compare);
        List<Long> passedOver = List.copyOf(contradicted);
        if (best.isPresent() && (checkpoint == null || best.get() >= checkpoint.step())) {
            long s = best.get();
            return new Choice(ResumePoint.fromRank(s, (int) (s / stepsPerEpoch), holderOf.get(s)), passedOver);
        }
        return new Choice(checkpoint != null ? ResumePoint.fromCheckpoint(checkpoint) : ResumePoint.fresh(),
                passedOver);
    }
}
