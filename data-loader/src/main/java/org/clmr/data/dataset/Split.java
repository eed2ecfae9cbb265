package org.clmr.data.dataset;

import java.util.Locale;

/** The partition a track belongs to. Pre-training samples only {@link #TRAIN}. */
public enum Split {
    TRAIN, VALID, TEST;

    /** The lower-case name used in the index and in CSV files. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code train}, {@code valid} (also {@code validation}, {@code val}, {@code dev}) or {@code test},
     * case-insensitively; null when it is none of them.
     */
    public static Split parse(String s) {
        switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "train": case "training": return TRAIN;
            case "valid": case "validation": case "val": case "dev": return VALID;
            case "test": case "testing": return TEST;
            default: return null;
        }
    }
}
