package org.clmr.protocol.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import org.clmr.protocol.security.ControlToken;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.security.NodeSecurity;
import org.clmr.protocol.security.TokenSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Who may use a node's HTTP endpoint: every operator command ({@link Access#CONTROL}) needs the control token when
 * the node has one, and reads ({@link Access#READ}: {@code /status}, {@code /metrics}) need it too when
 * {@code clmr.security.protect-reads} is on. A request without the right {@code Authorization: Bearer TOKEN} is
 * answered 401 with a {@code WWW-Authenticate} challenge and one line of JSON, and never reaches its handler, so
 * nothing changes. The token is compared in constant time ({@link ControlToken#check}) and never echoed. Refusals
 * are logged at most once a minute, with how many there were, so that a flood of bad requests cannot flood the log.
 * A node without a token (loopback, or {@code clmr.security.insecure = on}) admits every request.
 *
 * <p>A token read from a file is read again when the file changes (looked at no more than once a second), so that a
 * token is rotated without a restart: {@code clmr keys token --out FILE --force} replaces the file in one move, and
 * from then on the old token is refused. A file that cannot be read or holds no valid token leaves the previous
 * token in force, with a warning. Thread-safe; the HTTP server's threads.
 */
public final class HttpGuard {
    /** What a request does. */
    public enum Access {
        /** Reads status or metrics: needs the token when protect-reads is on. */
        READ,
        /** Changes the run: needs the token whenever the node has one. */
        CONTROL
    }

    private static final Logger LOG = LoggerFactory.getLogger(HttpGuard.class);
    private static final long LOG_EVERY_NS = TimeUnit.MINUTES.toNanos(1);
    private static final long TOKEN_CHECK_NS = TimeUnit.SECONDS.toNanos(1);

    private final TokenSource source;
    private final boolean protectReads;
    private volatile Optional<ControlToken> token;
    private volatile FileTime tokenFileTime;
    private volatile long tokenCheckedNs;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong unlogged = new AtomicLong();
    private final AtomicLong lastLogNs = new AtomicLong(System.nanoTime() - LOG_EVERY_NS);

    private HttpGuard(Optional<ControlToken> token, TokenSource source, boolean protectReads) {
        this.token = token;
        this.source = source;
        this.protectReads = protectReads;
        this.tokenFileTime = source.file().map(HttpGuard::modified).orElse(null);
        this.tokenCheckedNs = System.nanoTime();
    }

    /**
     * The guard of a node that started with {@code security}, whose token came from {@code source} (read again when
     * it is a file that changes).
     */
    public static HttpGuard of(NodeSecurity security, TokenSource source) {
        return new HttpGuard(security.controlToken(), security.controlToken().isPresent() ? source
                : new TokenSource(Optional.empty(), ""), security.protectReads());
    }

    /** A guard with this token, never read again (none: every request is admitted). */
    public static HttpGuard of(Optional<ControlToken> token, boolean protectReads) {
        return new HttpGuard(token, new TokenSource(Optional.empty(), ""), protectReads);
    }

    /** {@code handler}, reached only by requests that may do {@code access}. */
    public HttpHandler guard(Access access, HttpHandler handler) {
        return ex -> {
            if (admitted(access, ex)) {
                handler.handle(ex);
            }
        };
    }

    /** Whether requests of {@code access} need the token. */
    public boolean needsToken(Access access) {
        return token.isPresent() && (access == Access.CONTROL || protectReads);
    }

    /** Requests refused so far. */
    public long refused() {
        return refused.get();
    }

    private boolean admitted(Access access, HttpExchange ex) throws IOException {
        if (!needsToken(access)) {
            return true;
        }
        ControlToken.Verdict v = current().check(ex.getRequestHeaders().getFirst("Authorization"));
        if (v.granted()) {
            return true;
        }
        refuse(ex, v);
        return false;
    }

    /** The token in force: the file's again when it changed since it was last read. */
    private ControlToken current() {
        long now = System.nanoTime();
        if (source.file().isEmpty() || now - tokenCheckedNs < TOKEN_CHECK_NS) {
            return token.orElseThrow();
        }
        tokenCheckedNs = now;
        Path file = source.file().get();
        FileTime t = modified(file);
        if (t != null && !t.equals(tokenFileTime)) {
            try {
                token = ControlToken.load(source, Map.of());
                tokenFileTime = t;
                LOG.info("control token read again from {}: the one before it is no longer accepted", file);
            } catch (SettingsException e) {
                LOG.warn("the control token file changed but cannot be taken ({}); the token before it stays in force",
                        e.getMessage());
                tokenFileTime = t;
            }
        }
        return token.orElseThrow();
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return null;
        }
    }

    private void refuse(HttpExchange ex, ControlToken.Verdict v) throws IOException {
        refused.incrementAndGet();
        long n = unlogged.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLogNs.get();
        if (now - last >= LOG_EVERY_NS && lastLogNs.compareAndSet(last, now)) {
            unlogged.addAndGet(-n);
            LOG.warn("refused {} HTTP request(s) without the control token in the last minute; the latest: {} {} from {}"
                    + " ({})", n, ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                    ex.getRemoteAddress().getAddress().getHostAddress(), v);
        }
        ex.getRequestBody().close();
        byte[] body = (v.json() + "\n").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("WWW-Authenticate", v.challenge());
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(ControlToken.UNAUTHORIZED, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }
}
