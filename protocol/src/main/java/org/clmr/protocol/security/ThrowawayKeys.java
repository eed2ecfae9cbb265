package org.clmr.protocol.security;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import org.clmr.protocol.config.SettingsException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Throw-away key material for a cluster on one machine ({@code clmr train --workers}, {@code clmr demo}), so that
 * local clusters and every cluster test run the secure path: mutual TLS and a control token. In the run directory's
 * {@value #DIR} (0700): {@code node/} with one node certificate for {@code 127.0.0.1}, {@code ::1} and
 * {@code localhost} that every process of the cluster shares, and {@code control-token} (0600). The CA's private key
 * is never written: nothing else can be issued under this CA. Made by the launcher (the process that starts the
 * others) once, before it starts them, on its own thread; immutable.
 *
 * @param dir        {@code RUN_DIR/keys}
 * @param keyDir     the node's PEM directory ({@code clmr.security.tls.key-dir})
 * @param tokenFile  the control token's file ({@code clmr.security.control-token.file})
 */
public record ThrowawayKeys(Path dir, Path keyDir, Path tokenFile) {
    /** The directory below the run directory. */
    public static final String DIR = "keys";
    /** The hosts of the shared node certificate. */
    public static final List<String> HOSTS = List.of("127.0.0.1", "::1", "localhost");
    /** How long the throw-away CA and certificate are valid: a long local run must not outlive them. */
    public static final Duration VALIDITY = Duration.ofDays(400);
    /** Material that expires sooner than this is made anew rather than reused. */
    static final Duration MIN_REMAINING = Duration.ofDays(1);
    /** RSA 2048 (good to 2030) for keys that live one local run: a 3072-bit key takes seconds on a busy machine. */
    static final int RSA_BITS = 2048;

    /**
     * The run directory's throw-away keys: reused when present, complete and valid for at least another day (a
     * launcher started again on the same run directory keeps its cluster's trust, so workers still running from
     * before are accepted), made anew otherwise. The run directory is created 0700 if missing.
     */
    public static ThrowawayKeys inRunDir(Path runDir, Clock clock) {
        Path dir = runDir.toAbsolutePath().normalize().resolve(DIR);
        ThrowawayKeys keys = new ThrowawayKeys(dir, dir.resolve("node"), dir.resolve("control-token"));
        if (!keys.usable(clock)) {
            keys.create(clock);
        }
        return keys;
    }

    /** {@link #inRunDir(Path, Clock)} with the system clock. */
    public static ThrowawayKeys inRunDir(Path runDir) {
        return inRunDir(runDir, Clock.systemUTC());
    }

    /** The settings that point a node at this material, as {@code --set} arguments' values for child processes. */
    public List<String> settingOverrides() {
        return List.of(TlsSettings.PemDirectory.KEY + "=" + ConfigUtil.quoteString(keyDir.toString()),
                TokenSource.FILE_KEY + "=" + ConfigUtil.quoteString(tokenFile.toString()));
    }

    /** The same settings as a Config, to put in front of a configuration with {@code withFallback}. */
    public Config config() {
        return ConfigFactory.empty()
                .withValue(TlsSettings.PemDirectory.KEY, ConfigValueFactory.fromAnyRef(keyDir.toString()))
                .withValue(TokenSource.FILE_KEY, ConfigValueFactory.fromAnyRef(tokenFile.toString()));
    }

    /** The control token, for the launcher's own requests to the coordinator it started. */
    public ControlToken token() {
        return ControlToken.load(new TokenSource(Optional.of(tokenFile), ""), Map.of()).orElseThrow();
    }

    private boolean usable(Clock clock) {
        if (!Files.isRegularFile(tokenFile) || !NodeCertificate.files(keyDir).stream().allMatch(Files::isRegularFile)) {
            return false;
        }
        try {
            NodeKeyMaterial.load(new TlsSettings.PemDirectory(keyDir, Duration.ofMinutes(5)),
                    Clock.offset(clock, MIN_REMAINING));
            token();
            return true;
        } catch (SettingsException e) {
            // damaged, expiring or foreign material in our own directory: replaced below, as if it were absent
            return false;
        }
    }

    private void create(Clock clock) {
        PrivateFiles.createDirectory(dir);
        CertificateAuthority ca = CertificateAuthority.create(VALIDITY, RSA_BITS, clock);
        ca.issue(HOSTS, VALIDITY, RSA_BITS, clock).write(keyDir, true);
        ControlToken.generate().write(tokenFile, true);
    }
}
