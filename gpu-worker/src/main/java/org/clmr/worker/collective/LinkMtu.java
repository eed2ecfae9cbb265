package org.clmr.worker.collective;

import org.clmr.protocol.config.SettingsException;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.OptionalInt;

/**
 * The start-up check that Aeron's datagrams fit the link of this worker's endpoint. A datagram larger than a link's
 * MTU is dropped on the way to the host behind it (a bridge or switch drops oversized frames without a word), while
 * Aeron's small setup and heartbeat frames pass: the peers connect, and then every collective that sends a full
 * frame times out. A link narrower than {@code clmr.worker.aeron.mtu} is therefore refused at start, in one line
 * naming the setting and the largest MTU that works. It sees this host's own link only; a narrower hop between
 * hosts (a tunnel, a VPN) shows as collective timeouts (see the RUNBOOK's Network section). Stateless; any thread.
 */
public final class LinkMtu {
    /** The setting the check is about. */
    public static final String KEY = AeronSettings.SECTION + ".mtu";
    /** Aeron's smallest MTU (the setting's lower bound). */
    public static final int AERON_MIN = 1024;
    private static final int IPV4_UDP_HEADERS = 20 + 8;
    private static final int IPV6_UDP_HEADERS = 40 + 8;

    private LinkMtu() {
    }

    /**
     * Checks the endpoint's link for UDP transport; throws a {@link SettingsException} naming {@link #KEY} when
     * Aeron's datagrams of {@code mtu} bytes do not fit it. Does nothing when the address is on no interface of
     * this host (a wildcard address, a NAT'ed one): there is no link to ask.
     */
    public static void check(String endpointHost, int mtu) {
        InetAddress address;
        NetworkInterface link;
        int linkMtu;
        try {
            address = InetAddress.getByName(endpointHost);
            link = NetworkInterface.getByInetAddress(address);
            if (link == null) {
                return;
            }
            linkMtu = link.getMTU();
        } catch (IOException e) {
            return;  // the endpoint's own bind reports an unusable address, in its words
        }
        int headers = address instanceof Inet6Address ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS;
        if (linkMtu <= 0 || mtu + headers <= linkMtu) {
            return;
        }
        OptionalInt works = largestAeronMtu(linkMtu, headers);
        throw new SettingsException(KEY, mtu, "Aeron's datagrams of " + mtu + " bytes (+" + headers + " of IP and UDP"
                + " headers) do not fit the link of " + endpointHost + " (interface " + link.getName() + ", MTU "
                + linkMtu + "), so every collective would time out; " + (works.isPresent()
                ? "the largest that works is " + works.getAsInt() + ": set " + KEY + "=" + works.getAsInt()
                : "the link's MTU is below Aeron's smallest (" + AERON_MIN + "): raise the link's MTU"));
    }

    /** The largest Aeron MTU (a multiple of 32, at least {@link #AERON_MIN}) whose datagrams fit a link of {@code linkMtu}. */
    static OptionalInt largestAeronMtu(int linkMtu, int headers) {
        int largest = (linkMtu - headers) / 32 * 32;
        return largest >= AERON_MIN ? OptionalInt.of(largest) : OptionalInt.empty();
    }

    /** {@link #largestAeronMtu(int, int)} for IPv4. */
    public static OptionalInt largestAeronMtu(int linkMtu) {
        return largestAeronMtu(linkMtu, IPV4_UDP_HEADERS);
    }
}
