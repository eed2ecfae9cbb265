package org.clmr.protocol.security;

import org.clmr.protocol.config.SettingsException;

import javax.net.ssl.SSLContext;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a node starts with, checked before it binds anything: its TLS key material (loaded and verified), its control
 * token, and the secure-by-default rule. A node that binds any address other than a loopback one (its cluster,
 * HTTP or Aeron address) refuses to start without TLS key material and a control token, with one line naming the
 * setting to give; {@code clmr.security.insecure = on} lifts the rule and is a warning the node logs at every start.
 * Key material and a token that are configured are always used, on loopback too. Made once per node start, on the
 * starting thread; immutable afterwards, any thread.
 *
 * <pre>{@code
 * NodeSecurity security = NodeSecurity.open(SecuritySettings.from(config), List.of(
 *         new Binding("clmr.coordinator.cluster.host", s.clusterHost()),
 *         new Binding("clmr.coordinator.http.host", s.httpHost())));
 * security.warnings().forEach(log::warn);
 * akkaValues.putAll(security.akkaSettings());          // Artery tls-tcp, or nothing
 * }</pre>
 */
public final class NodeSecurity {
    private final SecuritySettings settings;
    private final Optional<NodeKeyMaterial> keyMaterial;
    private final Optional<ControlToken> token;
    private final List<String> warnings;

    private NodeSecurity(SecuritySettings settings, Optional<NodeKeyMaterial> keyMaterial, Optional<ControlToken> token,
                         List<String> warnings) {
        this.settings = settings;
        this.keyMaterial = keyMaterial;
        this.token = token;
        this.warnings = warnings;
    }

    /** {@link #open(SecuritySettings, List, Map, Clock)} with this process's environment and the system clock. */
    public static NodeSecurity open(SecuritySettings settings, List<Binding> bindings) {
        return open(settings, bindings, System.getenv(), Clock.systemUTC());
    }

    /**
     * Loads the key material and the token and applies the secure-by-default rule.
     *
     * @param bindings    every address the node will bind or advertise, each with its setting
     * @param environment where the token's environment variable is looked up
     * @throws SettingsException one line naming the setting: unreadable or invalid key material or token,
     *                           {@code protect-reads} without a token, or a non-loopback binding without key
     *                           material and token while {@code insecure} is off
     */
    public static NodeSecurity open(SecuritySettings settings, List<Binding> bindings, Map<String, String> environment,
                                    Clock clock) {
        Optional<NodeKeyMaterial> material = settings.tls().configured()
                ? Optional.of(NodeKeyMaterial.load(settings.tls(), clock)) : Optional.empty();
        Optional<ControlToken> token = ControlToken.load(settings.controlToken(), environment);
        if (settings.protectReads() && token.isEmpty()) {
            throw new SettingsException(SecuritySettings.PREFIX + ".protect-reads", "is on but there is no control token"
                    + " to protect reads with: set " + TokenSource.FILE_KEY + " (or the environment variable named by "
                    + TokenSource.ENV_KEY + "), or turn protect-reads off");
        }
        if (settings.insecure()) {
            return new NodeSecurity(settings, material, token, List.of(insecureWarning(material, token)));
        }
        for (Binding b : bindings) {
            if (b.loopback()) {
                continue;
            }
            if (material.isEmpty()) {
                throw new SettingsException(TlsSettings.PemDirectory.KEY, "this node binds " + b.key() + " = " + b.host()
                        + ", which is not a loopback address, and has no TLS key material: set " + TlsSettings.PemDirectory.KEY
                        + " to the directory `clmr keys node` wrote (or " + TlsSettings.KeyStores.KEY + " and "
                        + TlsSettings.KeyStores.TRUST_KEY + "), or " + SecuritySettings.INSECURE_KEY + " = on to run open");
            }
            if (token.isEmpty()) {
                throw new SettingsException(TokenSource.FILE_KEY, "this node binds " + b.key() + " = " + b.host()
                        + ", which is not a loopback address, and has no control token: set " + TokenSource.FILE_KEY
                        + " to a file `clmr keys token` wrote (or the environment variable named by " + TokenSource.ENV_KEY
                        + "), or " + SecuritySettings.INSECURE_KEY + " = on to run open");
            }
        }
        return new NodeSecurity(settings, material, token, List.of());
    }

    private static String insecureWarning(Optional<NodeKeyMaterial> material, Optional<ControlToken> token) {
        return SecuritySettings.INSECURE_KEY + " = on: this node starts without the secure-by-default check"
                + (material.isEmpty() ? "; its cluster traffic is neither encrypted nor authenticated, anyone who reaches"
                + " its port can join the cluster" : "")
                + (token.isEmpty() ? "; its control plane takes commands from anyone who reaches it" : "")
                + "; turn it off and give clmr.security.tls and clmr.security.control-token (`clmr keys`)";
    }

    /** Akka settings for Artery: mutual TLS with the key material, or nothing (plain TCP). See {@link ArteryTls}. */
    public Map<String, Object> akkaSettings() {
        return ArteryTls.akkaSettings(keyMaterial.isPresent() ? settings.tls() : new TlsSettings.None());
    }

    /** Whether Artery runs on mutual TLS. */
    public boolean tls() {
        return keyMaterial.isPresent();
    }

    /** The key material, for the HTTP side (HTTPS with the same certificate) and for clients. */
    public Optional<NodeKeyMaterial> keyMaterial() {
        return keyMaterial;
    }

    /** A TLS context with the node's key that trusts the run CA, when key material is configured. */
    public Optional<SSLContext> sslContext() {
        return keyMaterial.map(NodeKeyMaterial::sslContext);
    }

    /** The control token, when one is configured; without it the control plane is open (loopback or insecure). */
    public Optional<ControlToken> controlToken() {
        return token;
    }

    /** Whether reads ({@code /status}, {@code /metrics}) need the token too. */
    public boolean protectReads() {
        return settings.protectReads();
    }

    /** Lines to log as warnings at start ({@code insecure = on}); empty otherwise. */
    public List<String> warnings() {
        return warnings;
    }
}
