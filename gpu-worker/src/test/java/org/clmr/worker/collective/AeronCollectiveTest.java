package org.clmr.worker.collective;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.wire.FrameFlyweight;
import org.clmr.protocol.wire.FrameKey;
import org.clmr.protocol.wire.FrameMac;
import org.clmr.protocol.wire.OpKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The receive path against hand-made frames (stale, foreign, forged, malformed, corrupt, valid) from a rogue
 * publication on the same driver: each dropped and counted, the operation completed by the valid one; and the
 * one-line start-up failures: unreachable peer, port in use, busy or missing driver.
 * Deadlines run on a {@link HandClock}: an operation still waits 1 ns before its deadline and fails at it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AeronCollectiveTest {
    private static final long RUN = 77L;
    private static final FrameKey KEY = FrameKey.random();

    @TempDir
    Path tmp;

    private static AeronSettings settings() {
        return AeronSettings.from(ClmrConfig.defaults()).withSizes(64 * 1024, 4096)
                .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(2));
    }

    @Test
    void shouldDropAndCountEveryBadFrameAndStillCompleteTheOperation() throws Exception {
        String dir = tmp.resolve("driver").toString();
        AeronSettings s = settings().with(false, dir, true, "ipc");
        HandClock clock = new HandClock();
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try (MediaDriver driver = AeronTransport.launchDriver(s, dir);
             Aeron rogue = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir));
             Subscription rogueIn = rogue.addSubscription("aeron:ipc", AeronCollective.streamId(1, 1, 0));
             ExclusivePublication rogueOut = rogue.addExclusivePublication("aeron:ipc", AeronCollective.streamId(1, 0, 1));
             AeronTransport transport = AeronTransport.start(s, clock);
             AeronCollective c = transport.join(new Membership(RUN, 1, 0, List.of("ipc", "ipc"), KEY))) {
            float[] peerRows = {1.5f, -2.25f, 3.0f, 4.125f};
            offer(rogueOut, RUN, 0, 5, 0, peerRows, Tamper.NONE);          // an older generation
            offer(rogueOut, 999, 1, 5, 0, peerRows, Tamper.NONE);          // another run
            offer(rogueOut, RUN, 1, 4, 0, peerRows, Tamper.NONE);          // an op this rank has finished
            offer(rogueOut, RUN, 1, 5, 0, peerRows, Tamper.CORRUPT);       // the current op, payload corrupted
            offer(rogueOut, RUN, 1, 5, 0, peerRows, Tamper.FORGED);        // the current op, MAC under another key
            offer(rogueOut, RUN, 1, 5, 0, peerRows, Tamper.BAD_CHUNK_COUNT); // 48 bytes + payload, chunk count 0
            offer(rogueOut, RUN, 1, 5, 0, peerRows, Tamper.NONE);          // the chunk due
            float[] all = c.allGather(new OpTag(1, 5, 0), new float[] {9f, 8f, 7f}, new int[] {3, 4});
            assertArrayEquals(new float[] {9f, 8f, 7f, 1.5f, -2.25f, 3.0f, 4.125f}, all);
            CollectiveMetrics.Snapshot m = c.metrics().snapshot();
            assertEquals(3, m.staleDropped());
            assertEquals(1, m.crcFailures());
            assertEquals(1, m.rejected("bad_mac"));
            assertEquals(1, m.rejected("malformed"));
            assertEquals(1, m.framesReceived());
            assertEquals(0, m.timeouts());

            offer(rogueOut, RUN, 1, 6, 0, peerRows, Tamper.NONE);
            float[] next = c.allGather(new OpTag(1, 6, 0), new float[] {9f, 8f, 7f}, new int[] {3, 4});
            assertArrayEquals(new float[] {9f, 8f, 7f, 1.5f, -2.25f, 3.0f, 4.125f}, next);
            assertEquals(2, c.metrics().snapshot().framesReceived());

            offer(rogueOut, RUN, 1, 7, 0, peerRows, Tamper.FORGED);
            Future<float[]> silent = caller.submit(
                    () -> c.allGather(new OpTag(1, 7, 0), new float[] {1f, 2f, 3f}, new int[] {3, 4}));
            CollectiveTimeoutException t = failsAtTheDeadline(clock, silent, Duration.ofSeconds(1));
            assertEquals(List.of(1), t.silentRanks(), "only the deadline fails an operation fed forged frames");
            assertEquals(1, c.metrics().snapshot().timeouts());
            assertEquals(2, c.metrics().snapshot().rejected("bad_mac"));
            assertTrue(rogueIn.imageCount() > 0, "rank 0 published to the rogue rank 1");
        } finally {
            caller.shutdownNow();
        }
    }

    /**
     * Holds {@code clock} until the operation running in {@code call} has armed its deadline on it, then
     * shows that the operation still waits 1 ns before {@code deadline} and fails at it (within 3 s of real
     * time after the clock reaches it).
     */
    static CollectiveTimeoutException failsAtTheDeadline(HandClock clock, Future<?> call, Duration deadline) {
        clock.awaitReads(2);
        clock.advance(deadline.minusNanos(1));
        clock.awaitReads(2);
        assertFalse(call.isDone(), "the operation gave up before its " + deadline.toMillis() + " ms deadline");
        clock.advance(Duration.ofNanos(1));
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(3, TimeUnit.SECONDS),
                "the " + deadline.toMillis() + " ms deadline held");
        return assertInstanceOf(CollectiveTimeoutException.class, e.getCause());
    }

    @Test
    void shouldNameAPeerThatLeftTheGenerationLongBeforeTheDeadline() throws Exception {
        String dir = tmp.resolve("driver").toString();
        AeronSettings s = settings().with(false, dir, true, "ipc")
                .withTimeouts(Duration.ofHours(1), Duration.ofSeconds(5), Duration.ofSeconds(2));
        HandClock clock = new HandClock();
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try (MediaDriver driver = AeronTransport.launchDriver(s, dir);
             Aeron rogue = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir));
             Subscription rogueIn = rogue.addSubscription("aeron:ipc", AeronCollective.streamId(1, 1, 0));
             AeronTransport transport = AeronTransport.start(s, clock)) {
            ExclusivePublication rogueOut = rogue.addExclusivePublication("aeron:ipc", AeronCollective.streamId(1, 0, 1));
            try (AeronCollective c = transport.join(new Membership(RUN, 1, 0, List.of("ipc", "ipc"), KEY))) {
                Future<float[]> waiting = caller.submit(
                        () -> c.allGather(new OpTag(1, 0, 0), new float[] {1f, 2f, 3f}, new int[] {3, 4}));
                clock.awaitReads(2);
                rogueOut.close();
                Duration waited = clock.tickUntilDone(waiting, Duration.ofNanos(Liveness.CHECK_INTERVAL_NS));
                ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(1, TimeUnit.SECONDS));
                CollectiveTimeoutException t = assertInstanceOf(CollectiveTimeoutException.class, e.getCause());
                assertEquals(List.of(1), t.silentRanks());
                assertTrue(t.getMessage().contains("lost rank(s) 1 (ipc): their Aeron connection went down"), t.getMessage());
                assertTrue(waited.compareTo(Duration.ofMinutes(1)) < 0, "found lost after " + waited + " on the clock");
                CollectiveMetrics.Snapshot m = c.metrics().snapshot();
                assertEquals(1, m.peersLost());
                assertEquals(1, m.timeouts());
            }
        } finally {
            caller.shutdownNow();
        }
    }

    @Test
    void shouldAgreeBitForBitAcrossTwoInProcessRanksWithManySmallChunks() throws Exception {
        String dir = tmp.resolve("driver").toString();
        AeronSettings s = settings().with(false, dir, true, "ipc").withTimeouts(Duration.ofSeconds(20),
                Duration.ofSeconds(10), Duration.ofSeconds(5));
        try (MediaDriver driver = AeronTransport.launchDriver(s, dir);
             AeronTransport t0 = AeronTransport.start(s);
             AeronTransport t1 = AeronTransport.start(s)) {
            CompletableFuture<float[]> r1 = CompletableFuture.supplyAsync(() -> rankWork(t1, 1));
            float[] r0 = rankWork(t0, 0);
            assertArrayEquals(r0, r1.get(30, TimeUnit.SECONDS));
            float[] expected = RankData.plainSum(5, new int[] {0, 1}, "x", 100_003);
            assertArrayEquals(expected, r0);
            // rank 0 sends its copy of segment 1 and its sum of segment 0, ~200 kB each, in 8096-byte chunks
            assertEquals(25 + 25, t0.metrics().snapshot().framesSent(), "chunked below 8 KiB messages");
        }
    }

    /**
     * A starved host's client closes itself (its conductor missed the driver's client liveness): its generation's
     * operations fail at once, and the next generation runs on a new client instead of the process giving up.
     */
    @Test
    void shouldReopenAClientThatClosedItselfAtTheNextGeneration() throws Exception {
        String dir = tmp.resolve("driver").toString();
        AeronSettings s = settings().with(false, dir, true, "ipc").withTimeouts(Duration.ofSeconds(20),
                Duration.ofSeconds(10), Duration.ofSeconds(5));
        try (MediaDriver driver = AeronTransport.launchDriver(s, dir);
             AeronTransport t0 = AeronTransport.start(s);
             AeronTransport t1 = AeronTransport.start(s)) {
            CompletableFuture<AeronCollective> c1 = CompletableFuture.supplyAsync(
                    () -> t1.join(new Membership(RUN, 2, 1, List.of("ipc", "ipc"), KEY)));
            try (AeronCollective c0 = t0.join(new Membership(RUN, 2, 0, List.of("ipc", "ipc"), KEY));
                 AeronCollective peer = c1.get(30, TimeUnit.SECONDS)) {
                assertFalse(t0.clientLost());
                t0.aeron().close();
                assertTrue(t0.clientLost(), "a client closed from under the transport is lost");
                float[] x = new float[1000];
                assertThrows(CollectiveException.class, () -> c0.allReduceSum(new OpTag(2, 0, 0), x, 0, x.length));
            }
            CompletableFuture<float[]> r1 = CompletableFuture.supplyAsync(() -> rankWork(t1, 1));
            float[] r0 = rankWork(t0, 0);
            assertArrayEquals(r0, r1.get(30, TimeUnit.SECONDS));
            assertArrayEquals(RankData.plainSum(5, new int[] {0, 1}, "x", 100_003), r0);
            assertFalse(t0.clientLost());
            assertEquals(1, t0.metrics().clientsReopened());
            assertEquals(0, t1.metrics().clientsReopened());
        }
    }

    /**
     * A driver that stops answering (here: stopped; on a starved host: not run for 10 s) times the client out.
     * Aeron's default error handler then exits the JVM ("Media Driver timeout - is it running? exiting client"):
     * this one marks the client lost, the process lives on, and the next join runs on a new client.
     */
    @Test
    void shouldOutliveADriverTimeoutAndJoinOnANewClientOnceADriverRunsAgain() throws Exception {
        String dir = tmp.resolve("driver").toString();
        AeronSettings s = settings().with(false, dir, true, "ipc").withTimeouts(Duration.ofSeconds(20),
                Duration.ofSeconds(2), Duration.ofSeconds(2));
        MediaDriver first = AeronTransport.launchDriver(s, dir);
        try (AeronTransport t0 = AeronTransport.start(s)) {
            first.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(AeronTransport.STARVED_HOST_MS / 1000 + 20);
            while (!t0.clientLost() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(t0.clientLost(), "the client saw its driver time out");
            try (MediaDriver again = AeronTransport.launchDriver(s, dir);
                 AeronTransport t1 = AeronTransport.start(s)) {
                CompletableFuture<float[]> r1 = CompletableFuture.supplyAsync(() -> rankWork(t1, 1));
                float[] r0 = rankWork(t0, 0);
                assertArrayEquals(r0, r1.get(30, TimeUnit.SECONDS));
                assertEquals(1, t0.metrics().clientsReopened());
            }
        }
    }

    private static float[] rankWork(AeronTransport t, int rank) {
        try (AeronCollective c = t.join(new Membership(RUN, 3, rank, List.of("ipc", "ipc"), KEY))) {
            assertEquals(64 * 1024 / 8 - 32 - FrameFlyweight.HEADER_LENGTH - FrameFlyweight.MAC_LENGTH, c.chunkBytes());
            float[] x = RankData.floats(5, rank, "x", 100_003);
            c.allReduceSum(new OpTag(3, 0, 0), x, 0, x.length);
            return x;
        }
    }

    @Test
    void shouldNameUnreachablePeersWhenAGenerationCannotConnect() throws Exception {
        List<String> endpoints = AeronSettings.freeLoopbackEndpoints(2);
        AeronSettings s = settings().withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(800), Duration.ofSeconds(2))
                .with(true, tmp.resolve("d").toString(), false, endpoints.get(0));
        HandClock clock = new HandClock();
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try (AeronTransport t = AeronTransport.start(s, clock)) {
            Future<AeronCollective> joining = caller.submit(() -> t.join(new Membership(RUN, 1, 0, endpoints, KEY)));
            CollectiveTimeoutException e = failsAtTheDeadline(clock, joining, Duration.ofMillis(800));
            assertEquals(List.of(1), e.silentRanks());
            assertTrue(e.getMessage().contains("peer rank(s) 1 (udp " + endpoints.get(1) + ") unreachable"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        } finally {
            caller.shutdownNow();
        }
    }

    @Test
    void shouldSayInOneLineThatAPortIsAlreadyInUse() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            String mine = "127.0.0.1:" + taken.getLocalPort();
            AeronSettings s = settings().with(true, tmp.resolve("d").toString(), false, mine);
            try (AeronTransport t = AeronTransport.start(s)) {
                UserError e = assertThrows(UserError.class,
                        () -> t.join(new Membership(RUN, 1, 0, List.of(mine, "127.0.0.1:9"), KEY)));
                assertTrue(e.getMessage().startsWith("UDP endpoint " + mine + " of rank 0 is already in use"), e.getMessage());
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
            }
        }
    }

    @Test
    void shouldRefuseASecondDriverInAnActiveDirectory() {
        String dir = tmp.resolve("busy").toString();
        try (MediaDriver first = AeronTransport.launchDriver(settings(), dir)) {
            UserError e = assertThrows(UserError.class, () -> AeronTransport.launchDriver(settings(), dir));
            assertTrue(e.getMessage().startsWith("an Aeron media driver is already active in " + dir), e.getMessage());
        }
    }

    @Test
    void shouldSayInOneLineThatNoExternalDriverRuns() {
        // the Aeron client looks for a driver for max(1 s, connect-timeout)
        AeronSettings s = settings().withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofSeconds(2))
                .with(false, tmp.resolve("none").toString(), true, "ipc");
        UserError e = assertThrows(UserError.class, () -> AeronTransport.start(s));
        assertTrue(e.getMessage().startsWith("no Aeron media driver is running in " + tmp.resolve("none")), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void shouldSayInOneLineThatAnExternalDriversDirectoryIsStale() throws Exception {
        String dir = tmp.resolve("stale").toString();
        AeronSettings s = settings().withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofMillis(500))
                .with(false, dir, true, "ipc");
        leaveStaleDirectory(dir, Duration.ofMillis(1000));
        UserError e = assertThrows(UserError.class, () -> AeronTransport.start(s));
        assertTrue(e.getMessage().startsWith("the Aeron media driver directory " + dir
                + " is stale (its driver's last heartbeat was "), e.getMessage());
        assertTrue(e.getMessage().endsWith("start it again with `clmr driver --dir " + dir + "`"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    /**
     * What a killed driver leaves behind: a CnC file whose heartbeat is older than {@code liveness}. The
     * driver runs on an epoch clock set back by {@code liveness} + 200 ms, so its last heartbeat is that old
     * the moment it stops.
     */
    static void leaveStaleDirectory(String dir, Duration liveness) {
        long behindMs = liveness.toMillis() + 200;
        MediaDriver.launch(new MediaDriver.Context().aeronDirectoryName(dir).dirDeleteOnStart(true)
                .dirDeleteOnShutdown(false).threadingMode(io.aeron.driver.ThreadingMode.SHARED)
                .epochClock(() -> System.currentTimeMillis() - behindMs)).close();
        assertTrue(AeronTransport.staleDriver(dir, liveness.toMillis()) != null, "a stale directory in " + dir);
    }

    @Test
    void shouldRefuseTagsThatDoNotIncrease() throws Exception {
        try (LocalCollective c = new LocalCollective(4)) {
            c.allReduceSum(new OpTag(4, 2, 0), new double[1]);
            assertThrows(IllegalArgumentException.class, () -> c.allReduceSum(new OpTag(4, 2, 0), new double[1]));
            assertThrows(IllegalArgumentException.class, () -> c.allReduceSum(new OpTag(4, 1, 9), new double[1]));
            assertThrows(IllegalArgumentException.class, () -> c.allReduceSum(new OpTag(3, 9, 0), new double[1]));
        }
    }

    /** What {@link #offer} does to the frame rank 1 would send. */
    enum Tamper {
        /** Nothing: the frame as rank 1 sends it. */
        NONE,
        /** A payload byte flipped after the CRC, then signed: the sender's memory went bad. */
        CORRUPT,
        /** Signed under another key: right stream, header and CRC, wrong MAC. */
        FORGED,
        /** Chunk count 0, signed: fails validation before anything else is read. */
        BAD_CHUNK_COUNT
    }

    /** A frame built with the flyweight, as rank 1 of the test's generation would send it to rank 0, then tampered. */
    private static void offer(ExclusivePublication pub, long runId, long generation, long step, int sequence,
                              float[] rows, Tamper tamper) throws InterruptedException {
        UnsafeBuffer b = new UnsafeBuffer(BufferUtil.allocateDirectAligned(256, 64));
        FrameFlyweight f = new FrameFlyweight().wrap(b, 0);
        f.runId(runId).generation(generation).step(step).opSequence(sequence).opKind(OpKind.ALL_GATHER_F32).phase(0)
                .sourceRank(1).chunkIndex(0).chunkCount(tamper == Tamper.BAD_CHUNK_COUNT ? 0 : 1)
                .payloadLength(rows.length * 4);
        for (int i = 0; i < rows.length; i++) {
            b.putFloat(f.payloadOffset() + 4 * i, rows[i], FrameFlyweight.BYTE_ORDER);
        }
        f.sealCrc();
        if (tamper == Tamper.CORRUPT) {
            b.putByte(f.payloadOffset() + 2, (byte) (b.getByte(f.payloadOffset() + 2) ^ 0x01));
        }
        FrameMac.of(tamper == Tamper.FORGED ? FrameKey.random() : KEY).sign(f, 0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (pub.offer(b, 0, f.frameLength() + FrameFlyweight.MAC_LENGTH) < 0) {
            assertTrue(System.nanoTime() < deadline, "rogue publication could not offer");
            Thread.sleep(1);
        }
    }
}
