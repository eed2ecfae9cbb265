package org.clmr.protocol.config;

/**
 * A configuration value a user set wrongly. The message is one line: the key, the value, what is allowed
 * and how to change it. The CLI prints it and exits with status 2.
 */
public final class SettingsException extends RuntimeException {
    private final String key;

    public SettingsException(String key, Object value, String allowed) {
        super(key + " = " + value + " is invalid: " + allowed
                + " (change it in the --config file or with --set " + key + "=...)");
        this.key = key;
    }

    public SettingsException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    /** The full path of the offending key, e.g. {@code clmr.run.global-batch}. */
    public String key() {
        return key;
    }
}
