package org.clmr.coordinator.history;

import org.clmr.coordinator.history.HistoryEntry.Kind;

import org.clmr.protocol.cluster.ControlInput;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which history entries to show: those at or after {@code since}, of the given kinds, of one run. The same filter
 * serves {@code GET /history} (from its query) and {@code clmr history} read offline. Immutable.
 *
 * @param since first time shown, or null for all
 * @param kinds kinds shown (all when every kind is in it)
 * @param runId the run shown, or null for every run in the journal
 */
public record HistoryFilter(Instant since, Set<Kind> kinds, String runId) {

    /** Everything. */
    public static final HistoryFilter ALL = new HistoryFilter(null, EnumSet.allOf(Kind.class), null);

    public HistoryFilter {
        kinds = kinds.isEmpty() ? EnumSet.allOf(Kind.class) : EnumSet.copyOf(kinds);
    }

    /**
     * A filter from query parameters: {@code since} (an ISO-8601 instant), {@code kind} (labels, comma-separated),
     * {@code run-id}.
     *
     * @throws IllegalArgumentException naming the parameter and what it takes
     */
    public static HistoryFilter fromQuery(Map<String, String> query) {
        Instant since = null;
        String s = query.get("since");
        if (s != null && !s.isBlank()) {
            try {
                since = Instant.parse(s.strip());
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("since=" + ControlInput.quoted(s) + " is not an ISO-8601 instant such as"
                        + " 2026-12-02T05:00:00Z");
            }
        }
        String run = query.get("run-id");
        return new HistoryFilter(since, kinds(query.getOrDefault("kind", "")), run == null || run.isBlank() ? null : run);
    }

    /** Kinds from comma-separated labels (none: every kind). */
    public static Set<Kind> kinds(String labels) {
        Set<Kind> kinds = EnumSet.noneOf(Kind.class);
        for (String label : labels.split(",")) {
            if (!label.isBlank()) {
                kinds.add(Kind.parse(label));
            }
        }
        return kinds;
    }

    /** Whether an entry passes. */
    public boolean test(HistoryEntry e) {
        return (since == null || !e.at().isBefore(since)) && kinds.contains(e.kind())
                && (runId == null || runId.equals(e.runId()));
    }

    /** The entries that pass, in their order. */
    public List<HistoryEntry> apply(List<HistoryEntry> entries) {
        return entries.stream().filter(this::test).toList();
    }
}
