package org.clmr.protocol.config;

/**
 * A configuration value a user set wrongly. The message is one line: the key, the value, what is allowed
 * and how to change it. The CLI prints it and exits with status 2.
 */
public final class SettingsException extends RuntimeException {
    private final String key;

    public SettingsException(String key, Object value, String allowed) {
        super(oneLine(key + " = " + value + " is invalid: " + allowed
                + " (change it in the --config file or with --set " + key + "=...)"));
        this.key = key;
    }

    public SettingsException(String key, String message) {
        super(oneLine(key + ": " + message));
        this.key = key;
    }

    /** The message as one line: keys and values come from the user and may hold any character. */
    private static String oneLine(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.append(c == '\n' ? "\\n" : Character.isISOControl(c)
                ? String.format("\\u%04x", c) : new String(Character.toChars(c))));
        return b.toString();
    }

    /** The full path of the offending key, e.g. {@code clmr.run.global-batch}. */
    public String key() {
        return key;
    }
}
