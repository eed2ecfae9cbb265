package org.clmr.protocol.cluster;

import java.util.Locale;

/**
 * What a {@link StartRun} means when its run id exists already (the coordinator's last run, or checkpoints of
 * that id in the store): a run id is never reused silently. Travels inside {@link CoordinatorProtocol.StartRun} (by
 * name, {@code "RESUME"}), and as the HTTP parameter {@code if-exists}.
 */
public enum IfRunExists {
    /** Refuse, saying what exists and how to resume it or start it afresh (the default). */
    REFUSE,
    /** Go on from its newest checkpoint (refused when it has none, finished, or ran under another RunSpec). */
    RESUME,
    /** Start at step 0; its checkpoints are kept under the run id {@code ID.archived-N}. */
    FRESH_KEEP,
    /** Start at step 0; its checkpoints are deleted. */
    FRESH_DROP;

    /** The values of the HTTP parameter {@code if-exists}. */
    public static final String PARAMETERS = "refuse, resume, fresh-keep or fresh-drop";

    /** This value as the HTTP parameter {@code if-exists} names it ({@code fresh-keep}). */
    public String parameter() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The value an HTTP parameter names, or null. */
    public static IfRunExists fromParameter(String p) {
        for (IfRunExists v : values()) {
            if (v.parameter().equals(p)) {
                return v;
            }
        }
        return null;
    }
}
