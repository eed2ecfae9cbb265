package org.clmr.protocol;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256, the project's one content hash (datasets, checkpoints, run specs, configuration). */
public final class Sha256 {
    private Sha256() {
    }

    /** A fresh digest; every JVM has SHA-256. */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }

    /** The digest of {@code bytes[offset, offset + length)}. */
    public static byte[] digest(byte[] bytes, int offset, int length) {
        MessageDigest md = newDigest();
        md.update(bytes, offset, length);
        return md.digest();
    }

    /** Lower-case hex of the digest of {@code bytes}. */
    public static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(digest(bytes, 0, bytes.length));
    }

    /** Lower-case hex of the digest of {@code text} in UTF-8. */
    public static String hex(String text) {
        return hex(text.getBytes(StandardCharsets.UTF_8));
    }
}
