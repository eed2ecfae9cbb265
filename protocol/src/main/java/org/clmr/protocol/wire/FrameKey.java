package org.clmr.protocol.wire;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import org.clmr.protocol.security.Redaction;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The secret key of one membership generation's collective frames ({@link FrameMac}): 32 random bytes that the
 * coordinator draws from {@link SecureRandom} when it forms the generation and hands to its members inside the
 * {@code Reconfigure} message, over the mutually authenticated cluster connection. It is never persisted (a
 * restarted coordinator forms a new generation with a new key), and {@link #toString()} never shows it, so a
 * message or record holding one may be logged.
 *
 * <p>{@link #NONE} is the absence of a key: frames then carry no MAC. Only the benchmark's {@code --auth off}
 * uses it; it cannot be sent in a message (only a 32-byte key deserialises). Immutable; any thread.
 */
public final class FrameKey {
    /** Bytes of a key: SHA-256's output length, the least RFC 2104 recommends for HMAC-SHA256. */
    public static final int LENGTH = 32;

    /** No key: frames carry no MAC ({@code clmr bench allreduce --auth off}). */
    public static final FrameKey NONE = new FrameKey(new byte[0]);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;

    private FrameKey(byte[] key) {
        this.key = key;
    }

    /** A fresh key from the JDK's default {@link SecureRandom} (the coordinator, once per generation). */
    public static FrameKey random() {
        byte[] k = new byte[LENGTH];
        RANDOM.nextBytes(k);
        return new FrameKey(k);
    }

    /**
     * The key with these bytes (copied), as a message carries it.
     *
     * @throws IllegalArgumentException unless there are exactly {@link #LENGTH} bytes
     */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static FrameKey of(byte[] bytes) {
        if (bytes == null || bytes.length != LENGTH) {
            throw new IllegalArgumentException("a frame key has " + LENGTH + " bytes, got "
                    + (bytes == null ? "none" : bytes.length));
        }
        return new FrameKey(bytes.clone());
    }

    /** Whether frames under this key carry a MAC (false only for {@link #NONE}). */
    public boolean authenticates() {
        return key.length > 0;
    }

    /** A copy of the key's bytes: for the MAC and the message's serialisation only. */
    @JsonValue
    byte[] bytes() {
        return key.clone();
    }

    /** Equal keys, compared in constant time. */
    @Override
    public boolean equals(Object o) {
        return o instanceof FrameKey k && MessageDigest.isEqual(key, k.key);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(key);
    }

    /** {@code <redacted>}, or {@code none} for {@link #NONE}: never the key. */
    @Override
    public String toString() {
        return authenticates() ? Redaction.REDACTED : "none";
    }
}
