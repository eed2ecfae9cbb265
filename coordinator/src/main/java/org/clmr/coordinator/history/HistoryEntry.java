package org.clmr.coordinator.history;

import com.fasterxml.jackson.annotation.JsonValue;

import org.clmr.protocol.cluster.ControlInput;

import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One line of a run's history: one journal event, as a person reads it and a tool parses it.
 *
 * @param sequence the event's sequence number in the journal (its order)
 * @param at       when it happened (the coordinator's clock, stored in the event)
 * @param runId    the run it belongs to
 * @param kind     what kind of event it is
 * @param text     one line saying what happened
 * @param details  its facts by name: strings, numbers, booleans, and lists and maps of them (for {@code --json})
 */
public record HistoryEntry(long sequence, Instant at, String runId, Kind kind, String text, Map<String, Object> details) {

    public HistoryEntry {
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    /** The kinds of history entries, named as {@code clmr history --kind} takes them. */
    public enum Kind {
        /** An operator started a run: its spec, dataset and length. */
        STARTED,
        /** A worker registered; it becomes a member at the next generation. */
        JOINED,
        /** A member or joiner is gone, and why. */
        REMOVED,
        /** A new membership generation: its members with device and share, where it resumes, and why. */
        GENERATION,
        /** A checkpoint was written, verified and committed. */
        CHECKPOINT,
        /** Every step of an epoch completed. */
        EPOCH,
        /** The run was paused. */
        PAUSED,
        /** The run was resumed. */
        RESUMED,
        /** The run finished or was stopped. */
        COMPLETED;

        /** Its name as written: lower case (also in JSON). */
        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * The kind of a label.
         *
         * @throws IllegalArgumentException naming every label when there is none of that name
         */
        public static Kind parse(String label) {
            for (Kind k : values()) {
                if (k.label().equals(label.strip().toLowerCase(Locale.ROOT))) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown kind " + ControlInput.quoted(label) + "; the kinds are " + labels());
        }

        /** Every label, comma-separated. */
        public static String labels() {
            return Arrays.stream(values()).map(Kind::label).collect(Collectors.joining(", "));
        }
    }
}
