package org.clmr.protocol.security;

import org.bouncycastle.util.IPAddress;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Host names and IP addresses as a node certificate's subject alternative names: an IPv4 or IPv6 literal, or a DNS
 * name (RFC 1123 labels). Stateless; any thread.
 */
public final class Hosts {
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Pattern DIGITS = Pattern.compile("[0-9]+");

    private Hosts() {
    }

    /** Whether the host is an IPv4 or IPv6 address literal (brackets allowed around IPv6). */
    public static boolean isIpAddress(String host) {
        String h = unbracket(host);
        return IPAddress.isValidIPv4(h) || IPAddress.isValidIPv6(h);
    }

    /**
     * The host in the form a certificate carries (IPv6 without brackets, a DNS name in lower case).
     *
     * @throws IllegalArgumentException with a one-line reason when it is neither an IP address nor a DNS name
     */
    public static String normalize(String host) {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("a host must not be empty");
        }
        String h = unbracket(host.strip());
        if (IPAddress.isValidIPv4(h) || IPAddress.isValidIPv6(h)) {
            return h;
        }
        if (h.length() > 253) {
            throw new IllegalArgumentException("host " + h + " is longer than 253 characters");
        }
        String[] labels = h.split("\\.", -1);
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                throw new IllegalArgumentException("host " + h + " is neither an IP address nor a DNS name"
                        + " (labels of letters, digits and inner hyphens, separated by dots)");
            }
        }
        if (DIGITS.matcher(labels[labels.length - 1]).matches()) {
            // no top-level domain is all digits: this was meant as an IPv4 address and is not a valid one
            throw new IllegalArgumentException("host " + h + " is not a valid IPv4 address");
        }
        return h.toLowerCase(Locale.ROOT);
    }

    private static String unbracket(String h) {
        return h.length() > 2 && h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }
}
