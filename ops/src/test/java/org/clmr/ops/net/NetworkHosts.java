package org.clmr.ops.net;

import org.clmr.protocol.process.JavaProcess;
import org.clmr.protocol.process.NativeEnv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hosts {@code h0..hN} of a private network on this machine, for the real-network cluster tests: one Linux network
 * namespace per host, each with a veth link (MTU 1500, loopback up) onto one bridge, addresses {@code 10.231.S.k+1}
 * in a /24 of this fixture's own (S chosen at random among the subnets no interface of this machine uses). The
 * bridge holds {@code .254} in this JVM's namespace, so the test reaches the hosts' HTTP endpoints; nothing is
 * routed beyond the bridge, so nothing leaves the machine. Names carry a random prefix, so fixtures of concurrent
 * runs never collide.
 *
 * <p>It starts processes on a host ({@code ip netns exec}), drops a share of a host's packets at random (nftables),
 * cuts its link (the bridge side of the veth down, both directions at once) and heals it, drops UDP one way between
 * two hosts (an nftables rule in the sender's namespace; TCP, hence Akka, is untouched) and sets a link's MTU. It
 * does not delay or reorder packets: that needs {@code tc netem} (the kernel's {@code sch_netem}), which the
 * machine these tests were written on lacks, so no such code is here untested. {@link #close}
 * removes every process, namespace and link it made; a JVM shutdown hook does the same when the test JVM is stopped
 * first. Test thread only (not thread-safe); needs root ({@link #unavailable} says why not otherwise).
 */
public final class NetworkHosts implements AutoCloseable {
    /** The link MTU of every host, as on Ethernet. */
    public static final int MTU = 1500;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern PACKETS = Pattern.compile("counter packets (\\d+)");

    private final String prefix;
    private final int subnet;
    private final int hosts;
    private final List<Process> processes = new ArrayList<>();
    private final Thread hook = new Thread(this::removeAll, "network-hosts-cleanup");
    private boolean closed;

    private NetworkHosts(String prefix, int subnet, int hosts) {
        this.prefix = prefix;
        this.subnet = subnet;
        this.hosts = hosts;
    }

    /**
     * Why this machine cannot build hosts (one line), or null when it can: it needs root and the {@code ip} tool,
     * and tries a namespace to be sure (containers without CAP_SYS_ADMIN refuse it).
     */
    public static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network-namespace tests need root (ip netns, veth, bridge); running as "
                    + System.getProperty("user.name");
        }
        String probe = "clmrprobe" + Integer.toHexString(RANDOM.nextInt(0x10000));
        try {
            Result add = exec(List.of("ip", "netns", "add", probe));
            if (add.code() != 0) {
                return "cannot create a network namespace (ip netns add: " + add.output().strip() + ")";
            }
            exec(List.of("ip", "netns", "del", probe));
            return null;
        } catch (IOException e) {
            return "cannot run the ip tool (install iproute2): " + e.getMessage();
        }
    }

    /** Builds {@code n} hosts h0..h(n-1) on a fresh bridge; on any failure removes what it made and throws. */
    public static NetworkHosts create(int n) throws IOException {
        if (n < 1 || n > 200) {
            throw new IllegalArgumentException("hosts: 1..200, not " + n);
        }
        NetworkHosts h = new NetworkHosts("cn" + String.format(Locale.ROOT, "%05x", RANDOM.nextInt(0x100000)),
                freeSubnet(), n);
        Runtime.getRuntime().addShutdownHook(h.hook);
        try {
            h.build();
        } catch (IOException | RuntimeException e) {
            h.close();
            throw e;
        }
        return h;
    }

    private void build() throws IOException {
        run("ip", "link", "add", bridge(), "type", "bridge");
        run("ip", "addr", "add", "10.231." + subnet + ".254/24", "dev", bridge());
        run("ip", "link", "set", bridge(), "up");
        for (int k = 0; k < hosts; k++) {
            run("ip", "netns", "add", namespace(k));
            run("ip", "link", "add", hostLink(k), "mtu", "" + MTU, "type", "veth", "peer", "name", bridgeLink(k),
                    "mtu", "" + MTU);
            run("ip", "link", "set", bridgeLink(k), "master", bridge());
            run("ip", "link", "set", bridgeLink(k), "up");
            run("ip", "link", "set", hostLink(k), "netns", namespace(k));
            inHost(k, "ip", "addr", "add", address(k) + "/24", "dev", hostLink(k));
            inHost(k, "ip", "link", "set", hostLink(k), "up");
            inHost(k, "ip", "link", "set", "lo", "up");
        }
    }

    /** Host {@code k}'s address. */
    public String address(int k) {
        check(k);
        return "10.231." + subnet + "." + (k + 1);
    }

    /** Host {@code k}'s namespace name. */
    public String namespace(int k) {
        check(k);
        return prefix + "-h" + k;
    }

    /** Starts {@code java} on host {@code k} ({@code ip netns exec} hands the namespace to the JVM it execs). */
    public Process start(int k, JavaProcess java, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace(k)));
        cmd.addAll(java.command());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        NativeEnv.applyTo(pb.environment());
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    /**
     * Drops {@code percent}% of the packets host {@code k} sends and of those it receives, each at random (an
     * nftables {@code numgen random} rule in its namespace, TCP and UDP alike): a lossy link, which needs no
     * {@code sch_netem}. A packet between two lossy hosts crosses both links, as it would cross two lossy cables.
     */
    public void lose(int k, int percent) throws IOException {
        if (percent < 1 || percent > 99) {
            throw new IllegalArgumentException("loss: 1..99 %, not " + percent);
        }
        inHost(k, "nft", "add", "table", "inet", "clmrloss");
        for (String hook : List.of("input", "output")) {
            inHost(k, "nft", "add", "chain", "inet", "clmrloss", hook,
                    "{ type filter hook " + hook + " priority 0 ; policy accept ; }");
            inHost(k, "nft", "add", "rule", "inet", "clmrloss", hook, "numgen", "random", "mod", "100", "<",
                    "" + percent, "counter", "drop");
        }
    }

    /** Removes the loss {@link #lose} put on host {@code k}, if any; returns how many packets it dropped. */
    public long loseNothing(int k) throws IOException {
        inHost(k, "nft", "add", "table", "inet", "clmrloss");
        Result listed = exec(List.of("ip", "netns", "exec", namespace(k), "nft", "list", "table", "inet", "clmrloss"));
        inHost(k, "nft", "delete", "table", "inet", "clmrloss");
        long dropped = 0;
        Matcher m = PACKETS.matcher(listed.output());
        while (m.find()) {
            dropped += Long.parseLong(m.group(1));
        }
        return dropped;
    }

    /** Cuts host {@code k} off the bridge (both directions), as a pulled cable at the switch. */
    public void cut(int k) throws IOException {
        run("ip", "link", "set", bridgeLink(k), "down");
    }

    /** Puts host {@code k} back on the bridge. */
    public void heal(int k) throws IOException {
        run("ip", "link", "set", bridgeLink(k), "up");
    }

    /** Drops every UDP datagram host {@code from} sends to host {@code to} (TCP goes on; the other way too). */
    public void dropUdp(int from, int to) throws IOException {
        inHost(from, "nft", "add", "table", "inet", "clmrnet");
        inHost(from, "nft", "add", "chain", "inet", "clmrnet", "out",
                "{ type filter hook output priority 0 ; policy accept ; }");
        inHost(from, "nft", "add", "rule", "inet", "clmrnet", "out", "ip", "daddr", address(to), "meta", "l4proto",
                "udp", "drop");
    }

    /** Removes the drops {@link #dropUdp} put on host {@code from}. */
    public void allowUdp(int from) throws IOException {
        inHost(from, "nft", "delete", "table", "inet", "clmrnet");
    }

    /** Sets the MTU of host {@code k}'s link (both ends). */
    public void mtu(int k, int mtu) throws IOException {
        inHost(k, "ip", "link", "set", hostLink(k), "mtu", "" + mtu);
        run("ip", "link", "set", bridgeLink(k), "mtu", "" + mtu);
    }

    /** Stops every process started here, then removes the namespaces and the bridge (their links go with them). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        removeAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it finds everything removed
        }
    }

    private synchronized void removeAll() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (int k = 0; k < hosts; k++) {
            quietly(List.of("ip", "netns", "del", namespace(k)));
            quietly(List.of("ip", "link", "del", bridgeLink(k)));
        }
        quietly(List.of("ip", "link", "del", bridge()));
    }

    private static void quietly(List<String> cmd) {
        try {
            exec(cmd);
        } catch (IOException e) {
            System.err.println("network hosts: cleanup " + cmd + " failed: " + e.getMessage());
        }
    }

    private String bridge() {
        return prefix + "br";
    }

    private String hostLink(int k) {
        return prefix + "h" + k;
    }

    private String bridgeLink(int k) {
        return prefix + "b" + k;
    }

    private void check(int k) {
        if (k < 0 || k >= hosts) {
            throw new IllegalArgumentException("host h" + k + " does not exist (h0..h" + (hosts - 1) + ")");
        }
    }

    private void inHost(int k, String... cmd) throws IOException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", namespace(k)));
        c.addAll(List.of(cmd));
        run(c.toArray(String[]::new));
    }

    private static void run(String... cmd) throws IOException {
        Result r = exec(List.of(cmd));
        if (r.code() != 0) {
            throw new IOException(String.join(" ", cmd) + " exited " + r.code() + ": " + r.output().strip());
        }
    }

    /** A subnet 10.231.S.0/24 that no interface of this namespace is in (another fixture's bridge, say). */
    private static int freeSubnet() throws IOException {
        String used = exec(List.of("ip", "-o", "-4", "addr", "show")).output();
        for (int attempt = 0; attempt < 100; attempt++) {
            int s = 1 + RANDOM.nextInt(253);
            if (!used.contains(" 10.231." + s + ".")) {
                return s;
            }
        }
        throw new IOException("no free subnet in 10.231.0.0/16 after 100 tries: " + used);
    }

    private record Result(int code, String output) {
    }

    private static Result exec(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish within 30 s");
            }
            return new Result(p.exitValue(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + cmd, e);
        }
    }
}
