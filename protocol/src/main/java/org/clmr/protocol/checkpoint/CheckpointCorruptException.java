package org.clmr.protocol.checkpoint;

/**
 * A stored checkpoint whose bytes are not what was written (size or SHA-256 differ), are unreadable, or do not
 * follow the format. Its message is one line whatever the bytes it quotes: control characters are escaped and
 * the line is cut at {@value #MAX_MESSAGE} characters.
 */
public final class CheckpointCorruptException extends RuntimeException {
    /** The longest message kept. */
    static final int MAX_MESSAGE = 400;

    public CheckpointCorruptException(String message) {
        super(oneLine(message));
    }

    static String oneLine(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_MESSAGE + 3));
        for (int i = 0; i < s.length() && b.length() < MAX_MESSAGE; i++) {
            char c = s.charAt(i);
            if (c == '\n') {
                b.append("\\n");
            } else if (Character.isISOControl(c) || Character.isSurrogate(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.length() >= MAX_MESSAGE ? b.append("...").toString() : b.toString();
    }
}
