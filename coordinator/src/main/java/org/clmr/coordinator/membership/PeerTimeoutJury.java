package org.clmr.coordinator.membership;

import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.desk.TolerancePolicy;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Running;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.RunData;
import org.clmr.protocol.cluster.CoordinatorProtocol.PeerTimeout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The peer-timeout jury: decides whom a collective timeout evicts. A member whose collective timed out reports
 * the ranks that were silent; the jury gathers the reports of a generation for a window (the shell's timer,
 * {@code clmr.coordinator.peer-timeout-window}) and then decides on all of them together. A reporter is alive, so
 * the suspects are the ranks reported silent that did not report themselves (a worker that abandons a step closes
 * its links, and its peers may then report it too); the {@link TolerancePolicy} says whether the silent or the
 * reporters go.
 *
 * <p>In memory only, owned by the coordinator's shell: the open window's reports. They are lost with the
 * coordinator's incarnation, and with them nothing durable: members report again if they still time out.
 * Runs on the coordinator actor's thread.
 */
public final class PeerTimeoutJury {
    private final Admission admission;
    private final TolerancePolicy tolerance;
    /** Reports of {@link #generation} in the open window: reporter -> the ids it found silent. */
    private final Map<String, List<String>> reports = new LinkedHashMap<>();
    private long generation = -1;

    /**
     * @param admission removes the workers the jury evicts
     * @param tolerance whether the silent or the reporters go
     */
    public PeerTimeoutJury(Admission admission, TolerancePolicy tolerance) {
        this.admission = admission;
        this.tolerance = tolerance;
    }

    /**
     * Hears a report: stale outside a running run or from an older generation; unknown from a newer one, from a
     * non-member, or naming no other member; otherwise accepted and gathered into this generation's window.
     */
    public Decision hear(CoordinatorState state, PeerTimeout c) {
        if (!(state instanceof Running running)) {
            return Decision.none().classified("peer-timeout", Classification.STALE);
        }
        RunData run = running.data();
        Classification cls = c.generation() < run.generation() ? Classification.STALE
                : c.generation() > run.generation() || run.member(c.reporterId()).isEmpty()
                ? Classification.UNKNOWN : Classification.ACCEPTED;
        List<String> silent = new ArrayList<>();
        for (int rank : c.silentRanks()) {
            if (rank >= 0 && rank < run.members().size()) {
                String id = run.members().get(rank).workerId();
                if (!id.equals(c.reporterId()) && !silent.contains(id)) {
                    silent.add(id);
                }
            }
        }
        if (cls == Classification.ACCEPTED && silent.isEmpty()) {
            cls = Classification.UNKNOWN;
        }
        Decision d = Decision.none().classified("peer-timeout", cls);
        if (cls != Classification.ACCEPTED) {
            return d.warn("peer timeout report from " + c.reporterId() + " (generation " + c.generation() + ", step "
                    + c.step() + ") is " + cls);
        }
        if (generation != run.generation()) {
            reports.clear();
            generation = run.generation();
        }
        reports.computeIfAbsent(c.reporterId(), k -> new ArrayList<>()).addAll(silent);
        return d;
    }

    /**
     * The window of {@code windowGeneration} is over: the verdict on its reports, or nothing when the generation
     * moved on meanwhile (those reports are stale then).
     */
    public Decision close(CoordinatorState state, long windowGeneration, Instant now) {
        if (!(state instanceof Running running) || running.data().generation() != windowGeneration
                || generation != windowGeneration || reports.isEmpty()) {
            reports.clear();
            return Decision.none();
        }
        return decide(state, -1, now);
    }

    /**
     * The verdict on the gathered reports (at least one): the silent ranks that did not report themselves are
     * evicted; if every one reported is a reporter, the first report stands alone. A reporter that finds most of
     * a larger generation silent is the one cut off.
     *
     * @param step the step of the report that closed the window at once, or -1
     */
    public Decision decide(CoordinatorState state, long step, Instant now) {
        List<String> reporters = List.copyOf(reports.keySet());
        List<String> silent = new ArrayList<>();
        reports.values().forEach(ids -> ids.stream()
                .filter(id -> !reporters.contains(id) && !silent.contains(id)).forEach(silent::add));
        List<String> accusers = reporters;
        if (silent.isEmpty()) {
            accusers = List.of(reporters.get(0));
            reports.get(accusers.get(0)).stream().distinct().forEach(silent::add);
        }
        reports.clear();
        int members = state.run().map(r -> r.members().size()).orElse(0);
        boolean evictSilent = tolerance.evictSilent(members, silent.size());
        return admission.remove(state, "peer-timeout", evictSilent ? silent : accusers, FailureReason.PEER_TIMEOUT,
                accusers + " timed out on " + silent + (step >= 0 ? " at step " + step : "")
                        + (evictSilent ? "" : "; the reporter is the one cut off"), now);
    }
}
