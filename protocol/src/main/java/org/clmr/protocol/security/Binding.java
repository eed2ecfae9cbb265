package org.clmr.protocol.security;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An address a node will bind or advertise, with the setting it comes from, for the secure-by-default check of
 * {@link NodeSecurity#open}. Immutable.
 *
 * @param key  the setting, e.g. {@code clmr.coordinator.http.host} (named in the refusal)
 * @param host the host name or IP address the node binds (not a port); empty, a wildcard ({@code 0.0.0.0},
 *             {@code ::}) or a name that does not resolve count as not loopback
 */
public record Binding(String key, String host) {
    /** The binding of a {@code host:port} endpoint (an Aeron endpoint; IPv6 as {@code [addr]:port}). */
    public static Binding endpoint(String key, String endpoint) {
        String e = endpoint.strip();
        int colon = e.lastIndexOf(':');
        boolean hasPort = colon > 0 && (e.startsWith("[") ? e.charAt(colon - 1) == ']' : e.indexOf(':') == colon);
        String host = hasPort ? e.substring(0, colon) : e;
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new Binding(key, host);
    }

    /**
     * Whether only this machine can reach the address: it is a loopback literal, or a name all of whose
     * addresses are loopback ({@code localhost}). Resolves names (DNS) once, at start.
     */
    public boolean loopback() {
        String h = host.strip();
        if (h.isEmpty()) {
            // Java resolves "" to the loopback address, but a server bound to "" or an unset host listens widely
            return false;
        }
        try {
            InetAddress[] all = InetAddress.getAllByName(h);
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
