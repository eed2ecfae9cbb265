package org.clmr.protocol.security;

/**
 * A secret value read from the configuration (a key-store password). It is held in this type, not as a string,
 * so that a Settings record that holds one can be logged or put in a message: {@link #toString()} never shows it.
 * Immutable; any thread.
 */
public final class Secret {
    /** No secret set (an empty value). */
    public static final Secret NONE = new Secret("");

    private final String value;

    private Secret(String value) {
        this.value = value;
    }

    /** Wraps a value; an empty value is {@link #NONE}. */
    public static Secret of(String value) {
        return value == null || value.isEmpty() ? NONE : new Secret(value);
    }

    /** Whether no value was set. */
    public boolean isEmpty() {
        return value.isEmpty();
    }

    /** The value itself, for the one place that needs it (a key store's load, Akka's settings). */
    public String reveal() {
        return value;
    }

    /** The value as characters (what {@link java.security.KeyStore} takes). */
    public char[] toCharArray() {
        return value.toCharArray();
    }

    /** {@code <redacted>}, or an empty string when no value was set. */
    @Override
    public String toString() {
        return value.isEmpty() ? "" : Redaction.REDACTED;
    }
}
