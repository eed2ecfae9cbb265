package org.clmr.protocol.security;

import com.typesafe.config.Config;
import org.clmr.protocol.config.ConfigReader;
import org.clmr.protocol.config.SettingsException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The {@code clmr.security} settings, read once and validated (every error names its key). Whether the key
 * material and the token can actually be read is checked when a node starts, by {@link NodeSecurity#open}: a
 * command that starts no node need not see them. Immutable; prints no secret ({@link Secret}).
 *
 * @param insecure     the explicit opt-out of the secure-by-default check
 * @param tls          this node's TLS key material
 * @param controlToken where the control plane's bearer token comes from
 * @param protectReads whether {@code GET /status} and {@code /metrics} need the token too
 */
public record SecuritySettings(boolean insecure, TlsSettings tls, TokenSource controlToken, boolean protectReads) {
    /** The settings' prefix. */
    public static final String PREFIX = "clmr.security";
    /** The opt-out's key. */
    public static final String INSECURE_KEY = PREFIX + ".insecure";

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** Reads and validates {@code clmr.security} of a resolved configuration. */
    public static SecuritySettings from(Config config) {
        ConfigReader r = new ConfigReader(config, "").at(PREFIX);
        return new SecuritySettings(r.getBoolean("insecure"), tls(r.at("tls")), token(r.at("control-token")),
                r.getBoolean("protect-reads"));
    }

    private static TlsSettings tls(ConfigReader r) {
        Optional<Path> dir = path(r, "key-dir");
        Optional<Path> keyStore = path(r, "key-store");
        Optional<Path> trustStore = path(r, "trust-store");
        Duration reload = r.getDuration("reload-after", Duration.ofSeconds(1), Duration.ofDays(1));
        if (dir.isPresent() && (keyStore.isPresent() || trustStore.isPresent())) {
            throw new SettingsException(r.key("key-dir"), "is set together with " + r.key(keyStore.isPresent()
                    ? "key-store" : "trust-store") + "; set either key-dir (PEM files) or key-store and trust-store");
        }
        if (keyStore.isPresent() != trustStore.isPresent()) {
            String missing = keyStore.isPresent() ? "trust-store" : "key-store";
            throw new SettingsException(r.key(missing), "missing while " + r.key(keyStore.isPresent() ? "key-store" : "trust-store")
                    + " is set; give both (this node's key and chain, and the run CA's certificate)");
        }
        if (dir.isPresent()) {
            return new TlsSettings.PemDirectory(dir.get(), reload);
        }
        if (keyStore.isPresent()) {
            Secret storePassword = Secret.of(r.getString("key-store-password"));
            Secret keyPassword = Secret.of(r.getString("key-password"));
            return new TlsSettings.KeyStores(keyStore.get(), storePassword,
                    keyPassword.isEmpty() ? storePassword : keyPassword, trustStore.get(),
                    Secret.of(r.getString("trust-store-password")));
        }
        return new TlsSettings.None();
    }

    private static TokenSource token(ConfigReader r) {
        String env = r.getString("env").strip();
        if (!env.isEmpty() && !ENV_NAME.matcher(env).matches()) {
            throw new SettingsException(r.key("env"), env, "must be an environment variable's name such as CLMR_CONTROL_TOKEN, or empty");
        }
        return new TokenSource(path(r, "file"), env);
    }

    private static Optional<Path> path(ConfigReader r, String key) {
        String s = r.getString(key).strip();
        if (s.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Path.of(s).toAbsolutePath().normalize());
        } catch (java.nio.file.InvalidPathException e) {
            throw new SettingsException(r.key(key), s, "must be a file path (" + e.getReason() + ")");
        }
    }
}
