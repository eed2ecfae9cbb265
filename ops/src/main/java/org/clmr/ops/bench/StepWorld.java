package org.clmr.ops.bench;

import io.aeron.driver.MediaDriver;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.wire.FrameKey;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.InProcessCollective;
import org.clmr.worker.collective.LocalCollective;
import org.clmr.worker.collective.Membership;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The world of {@code clmr bench step}'s ranks, which run as threads of this JVM: over
 * {@link InProcessCollective} ({@code inproc}), or over the real Aeron transport, {@code ipc} (every rank on
 * one media driver, as the workers of one host) or {@code udp} (a driver per rank on a loopback endpoint of
 * its own, as workers on different hosts). A world of one rank is a {@link LocalCollective}. Each rank's
 * thread calls {@link #join}; {@link #close} releases what was opened. Deadlines are ten minutes: a paper
 * preset step on a loaded CPU takes seconds between two exchanges.
 */
final class StepWorld implements AutoCloseable {
    static final List<String> TRANSPORTS = List.of("inproc", "ipc", "udp");
    /** The frame-MAC modes of {@code --auth}: with a MAC, without. */
    static final List<String> AUTH = List.of("on", "off");
    private static final long RUN = 0xBE7C4L;
    private static final Duration DEADLINE = Duration.ofMinutes(10);

    private final int ranks;
    private final String transport;
    private final List<Collective> inProcess;
    private final MediaDriver driver;
    private final List<AeronTransport> transports;
    private final List<String> endpoints;
    /** Each Aeron generation's frame-MAC mode, in generation order; empty without Aeron. */
    private final List<String> auth;
    private final List<Collective> joined = Collections.synchronizedList(new ArrayList<>());
    /** The key of the generations with {@code --auth on}. */
    private final FrameKey key = FrameKey.random();

    private StepWorld(int ranks, String transport, List<Collective> inProcess, MediaDriver driver,
                      List<AeronTransport> transports, List<String> endpoints, List<String> auth) {
        this.ranks = ranks;
        this.transport = transport;
        this.inProcess = inProcess;
        this.driver = driver;
        this.transports = transports;
        this.endpoints = endpoints;
        this.auth = auth;
    }

    /** Whether ranks over {@code transport} exchange Aeron frames, which {@code --auth} is about. */
    static boolean framed(String transport, int ranks) {
        return ranks > 1 && !transport.equals("inproc");
    }

    /**
     * Opens a world of {@code ranks} threads over {@code transport}: over Aeron, a generation per mode of
     * {@code auth} (each {@code on} or {@code off}, at least one); otherwise {@code auth} must be empty.
     */
    static StepWorld open(String transport, int ranks, List<String> auth) {
        if (!TRANSPORTS.contains(transport)) {
            throw new SettingsException("--transport", transport, "one of " + String.join(", ", TRANSPORTS));
        }
        if (framed(transport, ranks) == auth.isEmpty() || !AUTH.containsAll(auth)) {
            throw new IllegalArgumentException("auth modes " + auth + " for " + ranks + " ranks over " + transport);
        }
        if (ranks == 1) {
            return new StepWorld(1, transport, List.of(new LocalCollective(0)), null, List.of(), List.of(), auth);
        }
        if (transport.equals("inproc")) {
            return new StepWorld(ranks, transport, InProcessCollective.group(ranks, 0, DEADLINE.toMillis()), null,
                    List.of(), List.of(), auth);
        }
        AeronSettings base = AeronSettings.from(ClmrConfig.defaults()).withTimeouts(DEADLINE, Duration.ofSeconds(30),
                Duration.ofSeconds(30));
        List<AeronTransport> opened = new ArrayList<>();
        MediaDriver driver = null;
        try {
            List<String> endpoints;
            if (transport.equals("ipc")) {
                String dir = AeronTransport.freshDirectory();
                driver = AeronTransport.launchDriver(base, dir);
                endpoints = Collections.nCopies(ranks, "ipc");
                for (int r = 0; r < ranks; r++) {
                    opened.add(AeronTransport.start(base.with(false, dir, true, "ipc")));
                }
            } else {
                endpoints = AeronSettings.freeLoopbackEndpoints(ranks);
                for (String e : endpoints) {
                    opened.add(AeronTransport.start(base.with(true, "", false, e)));
                }
            }
            return new StepWorld(ranks, transport, null, driver, opened, endpoints, auth);
        } catch (IOException e) {
            closeAll(opened, driver);
            throw new UncheckedIOException("no free loopback UDP port for the ranks", e);
        } catch (RuntimeException e) {
            closeAll(opened, driver);
            throw e;
        }
    }

    /** Ranks in the world. */
    int ranks() {
        return ranks;
    }

    /** The frame-MAC mode of each generation, in generation order; empty without Aeron. */
    List<String> auth() {
        return auth;
    }

    /** Generations the ranks join: one per frame-MAC mode, or the one without Aeron. */
    int generations() {
        return Math.max(1, auth.size());
    }

    /** What the ranks run over, in words. */
    String describe() {
        if (ranks == 1) {
            return "one rank";
        }
        return ranks + " ranks as threads of this JVM over " + switch (transport) {
            case "inproc" -> "in-process exchange (no Aeron)";
            case "ipc" -> "Aeron IPC on one media driver";
            default -> "Aeron UDP on loopback, a media driver each";
        } + macs();
    }

    private String macs() {
        if (auth.size() == 2) {
            return ", steps alternating between a generation with frame MACs and one without";
        }
        return auth.equals(List.of("on")) ? ", frames with a MAC" : auth.isEmpty() ? "" : ", frames without a MAC";
    }

    /**
     * Rank {@code rank}'s collective of each generation, in generation order; called on the rank's own thread
     * (an Aeron generation connects there, every rank joining the generations in the same order).
     */
    List<Collective> join(int rank) {
        if (inProcess != null) {
            joined.add(inProcess.get(rank));
            return List.of(inProcess.get(rank));
        }
        List<Collective> out = new ArrayList<>();
        for (int g = 0; g < auth.size(); g++) {
            FrameKey k = auth.get(g).equals("on") ? key : FrameKey.NONE;
            Collective c = transports.get(rank).join(new Membership(RUN, g, rank, endpoints, k));
            joined.add(c);
            out.add(c);
        }
        return out;
    }

    @Override
    public void close() {
        joined.forEach(Collective::close);
        closeAll(transports, driver);
    }

    private static void closeAll(List<AeronTransport> transports, MediaDriver driver) {
        for (AeronTransport t : transports) {
            t.close();
        }
        if (driver != null) {
            driver.close();
        }
    }
}
