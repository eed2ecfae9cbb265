package org.clmr.protocol.security;

import org.clmr.protocol.config.SettingsException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bearer token of the HTTP control plane: made ({@link #generate}), written ({@link #write}), loaded from the
 * configured file or environment variable ({@link #load}), compared in constant time ({@link #matches}), checked
 * against a request's {@code Authorization} header ({@link #check}) and sent by clients ({@link #authorization}).
 * Its value never appears in {@link #toString()} or in any message. Immutable; any thread.
 */
public final class ControlToken {
    /** Shortest token accepted: 32 characters (a generated one has 43, 256 bits in base64url). */
    public static final int MIN_LENGTH = 32;
    /** Longest token accepted, so that a header is bounded. */
    public static final int MAX_LENGTH = 1024;
    /** What the HTTP server answers an unauthenticated request with. */
    public static final int UNAUTHORIZED = 401;

    /** Printable ASCII without spaces: what fits an HTTP header and a file's first line unchanged. */
    private static final Pattern VALUE = Pattern.compile("[\\x21-\\x7e]+");
    /** RFC 6750's credentials: the scheme (any case), spaces, a b64token. */
    private static final Pattern BEARER = Pattern.compile("(?i:bearer) +([A-Za-z0-9._~+/-]+=*) *");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] value;

    private ControlToken(byte[] value) {
        this.value = value;
    }

    /** A new token: 256 bits from a {@link SecureRandom}, base64url without padding (43 characters). */
    public static ControlToken generate() {
        byte[] bits = new byte[32];
        RANDOM.nextBytes(bits);
        return new ControlToken(Base64.getUrlEncoder().withoutPadding().encode(bits));
    }

    /**
     * Loads the token: from the file if one is set, else from the environment variable, else none.
     *
     * @param environment the process's environment ({@link System#getenv()}; tests pass their own)
     * @throws SettingsException naming the setting when the file cannot be read or a token is too short, too
     *                           long or holds spaces or control characters (the message never shows the token)
     */
    public static Optional<ControlToken> load(TokenSource source, Map<String, String> environment) {
        if (source.file().isPresent()) {
            Path file = source.file().get();
            return Optional.of(parse(firstLine(file), TokenSource.FILE_KEY, "the first line of " + file));
        }
        if (source.environment().isEmpty()) {
            return Optional.empty();
        }
        String token = environment.get(source.environment());
        if (token == null || token.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(parse(token.strip(), TokenSource.ENV_KEY, "the environment variable " + source.environment()));
    }

    /** Loads the token with this process's environment. */
    public static Optional<ControlToken> load(TokenSource source) {
        return load(source, System.getenv());
    }

    /** The file's first line, stripped; reads no more than a token's length, whatever the file is. */
    private static String firstLine(Path file) {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(MAX_LENGTH + 2);
        } catch (NoSuchFileException e) {
            throw new SettingsException(TokenSource.FILE_KEY, file, "does not exist; give a file holding the token,"
                    + " e.g. one written by `clmr keys token --out FILE`");
        } catch (IOException e) {
            throw new SettingsException(TokenSource.FILE_KEY, file, "cannot be read (" + e.getClass().getSimpleName()
                    + "); check its permissions: the node's user must be able to read it");
        }
        String text = new String(head, StandardCharsets.ISO_8859_1);
        int end = 0;
        while (end < text.length() && text.charAt(end) != '\n' && text.charAt(end) != '\r') {
            end++;
        }
        return text.substring(0, end).strip();
    }

    private static ControlToken parse(String token, String key, String where) {
        if (token.length() < MIN_LENGTH || token.length() > MAX_LENGTH) {
            throw new SettingsException(key, "the token in " + where + " has " + token.length() + " characters; it must have "
                    + MIN_LENGTH + " to " + MAX_LENGTH + " (make one with `clmr keys token --out FILE`)");
        }
        if (!VALUE.matcher(token).matches()) {
            throw new SettingsException(key, "the token in " + where + " holds spaces or control characters; it must be"
                    + " printable ASCII (make one with `clmr keys token --out FILE`)");
        }
        return new ControlToken(token.getBytes(StandardCharsets.US_ASCII));
    }

    /** Writes the token and a newline to a file of mode 0600 (its directory created 0700 if missing). */
    public void write(Path file, boolean force) {
        PrivateFiles.refuseExisting(List.of(file), force, "clients and nodes holding the old token are refused");
        byte[] line = new byte[value.length + 1];
        System.arraycopy(value, 0, line, 0, value.length);
        line[value.length] = '\n';
        PrivateFiles.writePrivate(file, line);
    }

    /**
     * Whether a presented token is this one. The time taken depends on this token's length only, never on where
     * the two differ ({@link MessageDigest#isEqual}).
     */
    public boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(value, presented.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Checks a request's {@code Authorization} header.
     *
     * @param authorizationHeader the header's value, or null when the request has none
     */
    public Verdict check(String authorizationHeader) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            return Verdict.MISSING;
        }
        if (authorizationHeader.length() > MAX_LENGTH + 64) {
            return Verdict.MALFORMED;
        }
        Matcher m = BEARER.matcher(authorizationHeader.strip());
        if (!m.matches()) {
            return Verdict.MALFORMED;
        }
        return matches(m.group(1)) ? Verdict.GRANTED : Verdict.WRONG;
    }

    /** The {@code Authorization} header value a client sends: {@code Bearer TOKEN}. */
    public String authorization() {
        return "Bearer " + new String(value, StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return "ControlToken(" + Redaction.REDACTED + ")";
    }

    /**
     * What a request's credentials amount to, and what to answer when they are not enough: status 401, a
     * {@code WWW-Authenticate} challenge (RFC 6750) and one line of JSON. Never echoes what was presented.
     */
    public enum Verdict {
        /** The right token. */
        GRANTED(""),
        /** No {@code Authorization} header. */
        MISSING("this endpoint needs Authorization: Bearer TOKEN (clmr.security.control-token)"),
        /** A header that is not {@code Bearer TOKEN}. */
        MALFORMED("the Authorization header is not Bearer TOKEN"),
        /** A well-formed bearer token that is not the run's. */
        WRONG("the bearer token is not this run's control token");

        private final String reason;

        Verdict(String reason) {
            this.reason = reason;
        }

        /** Whether the request may go on. */
        public boolean granted() {
            return this == GRANTED;
        }

        /** The value of the {@code WWW-Authenticate} header of the 401 answer. */
        public String challenge() {
            return this == MISSING ? "Bearer realm=\"clmr\"" : "Bearer realm=\"clmr\", error=\"invalid_token\"";
        }

        /** The 401 answer's body: one line of JSON, {@code {"error":"unauthorized","reason":"..."}}. */
        public String json() {
            return "{\"error\":\"unauthorized\",\"reason\":\"" + reason + "\"}";
        }
    }
}
