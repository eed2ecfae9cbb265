package org.clmr.protocol.checkpoint;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import com.typesafe.config.ConfigFactory;
import org.clmr.protocol.Sha256;
import org.clmr.protocol.cluster.CoordinatorProtocol;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointHandoff;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointPart;
import org.clmr.protocol.cluster.CoordinatorProtocol.HandoffRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.HandoffReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PartReceived;
import org.clmr.protocol.security.PrivateFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checkpoint handoff between a worker ({@link ClusterCheckpointStore}) and a coordinator node's
 * {@link CheckpointReceiver} over a real store: a payload of several parts arrives whole and is stored 0600, and
 * comes back whole; whatever a sender declares or sends out of line is refused with one line and stores nothing.
 */
class CheckpointHandoffTest {
    private static final int PART = CheckpointPart.PART_BYTES;
    private static final String SPEC = "s".repeat(64);
    private static ActorTestKit kit;
    private final List<ActorRef<CheckpointHandoff>> receivers = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        // every message is serialized as it would be between nodes (jackson-cbor), though the test runs in one JVM
        kit = ActorTestKit.create("handoff", ConfigFactory.parseString("akka.actor.serialize-messages = on")
                .withFallback(ConfigFactory.load()));
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    @AfterEach
    void stopReceivers() {
        receivers.forEach(kit::stop);
        receivers.clear();
    }

    /** A receiver, once the receptionist lists it (it registers as it starts). */
    private ActorRef<CheckpointHandoff> receiver(CheckpointStore store, long maxBytes, int maxTransfers, Duration idle) {
        ActorRef<CheckpointHandoff> r = kit.spawn(CheckpointReceiver.create(store, maxBytes, maxTransfers, idle));
        receivers.add(r);
        TestProbe<Receptionist.Listing> listings = kit.createTestProbe(Receptionist.Listing.class);
        listings.awaitAssert(() -> {
            kit.system().receptionist().tell(Receptionist.find(CoordinatorProtocol.CHECKPOINT_HANDOFF_KEY, listings.ref()));
            assertTrue(listings.receiveMessage().getServiceInstances(CoordinatorProtocol.CHECKPOINT_HANDOFF_KEY)
                    .contains(r));
            return null;
        });
        return r;
    }

    private static byte[] payload(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    private static CheckpointPart part(String worker, byte[] payload, int index, long declaredSize, String sha,
                                       ActorRef<HandoffReply> replyTo) {
        int from = index * PART;
        byte[] bytes = Arrays.copyOfRange(payload, Math.min(from, payload.length),
                Math.min(payload.length, from + PART));
        return new CheckpointPart(worker, "run-1", 8, 0, 1, SPEC, declaredSize, sha, index,
                CheckpointPart.partsOf(declaredSize), bytes, replyTo);
    }

    @Test
    void shouldHandACheckpointOverInPartsStoreItPrivatelyAndFetchItBackWhole() throws Exception {
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir.resolve("store"));
        receiver(store, 8 << 20, 2, Duration.ofSeconds(30));
        ClusterCheckpointStore worker = new ClusterCheckpointStore(kit::system, "host/cpu/1", Duration.ofSeconds(10));
        byte[] payload = payload(3 * PART + 17);

        CheckpointRecord record = worker.write("run-1", 8, 2, 5, SPEC, payload);

        assertEquals(Sha256.hex(payload), record.sha256());
        assertEquals(payload.length, record.sizeBytes());
        assertEquals(8, record.step());
        assertArrayEquals(payload, store.read(record), "the coordinator's store holds what the worker handed over");
        assertEquals(PrivateFiles.PRIVATE, Files.getPosixFilePermissions(Path.of(record.location())));
        assertEquals(PrivateFiles.DIRECTORY, Files.getPosixFilePermissions(Path.of(record.location()).getParent()));
        assertArrayEquals(payload, worker.read(record), "a worker that resumes fetches it whole");
        byte[] one = payload(100);
        assertArrayEquals(one, worker.read(worker.write("run-1", 9, 2, 5, SPEC, one)), "a payload of one part");
    }

    @Test
    void shouldRefuseADeclaredSizeAboveTheLimitBeforeTakingAnyBytes() {
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir.resolve("store"));
        ActorRef<CheckpointHandoff> r = receiver(store, 1 << 20, 2, Duration.ofSeconds(30));
        TestProbe<HandoffReply> probe = kit.createTestProbe(HandoffReply.class);
        byte[] payload = payload(PART);
        r.tell(part("w", payload, 0, Integer.MAX_VALUE - 8L, Sha256.hex(payload), probe.ref()));
        HandoffRefused refused = probe.expectMessageClass(HandoffRefused.class);
        assertTrue(refused.message().contains("declares " + (Integer.MAX_VALUE - 8L) + " bytes"), refused.message());
        assertEquals(List.of(), store.list("run-1"));
    }

    @Test
    void shouldRefuseAPartOutOfOrderAndDropItsTransfer() {
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir.resolve("store"));
        ActorRef<CheckpointHandoff> r = receiver(store, 8 << 20, 2, Duration.ofSeconds(30));
        TestProbe<HandoffReply> probe = kit.createTestProbe(HandoffReply.class);
        byte[] payload = payload(3 * PART);
        String sha = Sha256.hex(payload);
        r.tell(part("w", payload, 0, payload.length, sha, probe.ref()));
        assertEquals(new PartReceived(0), probe.receiveMessage());
        r.tell(part("w", payload, 2, payload.length, sha, probe.ref()));
        assertTrue(probe.expectMessageClass(HandoffRefused.class).message().contains("part 1 was expected next"));
        r.tell(part("w", payload, 1, payload.length, sha, probe.ref()));
        assertTrue(probe.expectMessageClass(HandoffRefused.class).message().contains("must start with part 0"),
                "the transfer was dropped with the refusal");
        byte[] shortPart = Arrays.copyOf(payload, PART - 1);
        r.tell(new CheckpointPart("w", "run-1", 8, 0, 1, SPEC, payload.length, sha, 0, 3, shortPart, probe.ref()));
        assertTrue(probe.expectMessageClass(HandoffRefused.class).message().contains(PART + " expected"));
        assertEquals(List.of(), store.list("run-1"));
    }

    @Test
    void shouldStoreNothingWhenTheBytesDoNotHashToTheDeclaredSha() {
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir.resolve("store"));
        ActorRef<CheckpointHandoff> r = receiver(store, 8 << 20, 2, Duration.ofSeconds(30));
        TestProbe<HandoffReply> probe = kit.createTestProbe(HandoffReply.class);
        byte[] payload = payload(PART + 5);
        String otherSha = Sha256.hex(payload(7));
        r.tell(part("w", payload, 0, payload.length, otherSha, probe.ref()));
        probe.expectMessage(new PartReceived(0));
        r.tell(part("w", payload, 1, payload.length, otherSha, probe.ref()));
        assertTrue(probe.expectMessageClass(HandoffRefused.class).message().contains("nothing was stored"));
        assertEquals(List.of(), store.list("run-1"));
    }

    @Test
    void shouldRefuseTransfersBeyondTheLimitAndDropOneThatFallsSilent() throws Exception {
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir.resolve("store"));
        ActorRef<CheckpointHandoff> r = receiver(store, 8 << 20, 1, Duration.ofSeconds(1));
        TestProbe<HandoffReply> probe = kit.createTestProbe(HandoffReply.class);
        byte[] payload = payload(2 * PART);
        String sha = Sha256.hex(payload);
        r.tell(part("a", payload, 0, payload.length, sha, probe.ref()));
        probe.expectMessage(new PartReceived(0));
        r.tell(part("b", payload, 0, payload.length, sha, probe.ref()));
        assertTrue(probe.expectMessageClass(HandoffRefused.class).message().contains("transfers are under way"));
        Thread.sleep(2500);
        r.tell(part("a", payload, 1, payload.length, sha, probe.ref()));
        assertTrue(probe.expectMessageClass(HandoffRefused.class).message().contains("must start with part 0"),
                "a transfer silent for the idle timeout is dropped");
        r.tell(part("b", payload, 0, payload.length, sha, probe.ref()));
        probe.expectMessage(new PartReceived(0));
    }

    @Test
    void shouldRefuseToHandBackACheckpointWhoseStoredBytesChanged() throws Exception {
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir.resolve("store"));
        receiver(store, 8 << 20, 2, Duration.ofSeconds(30));
        ClusterCheckpointStore worker = new ClusterCheckpointStore(kit::system, "host/cpu/2", Duration.ofSeconds(10));
        byte[] payload = payload(PART + 3);
        CheckpointRecord record = worker.write("run-1", 8, 0, 1, SPEC, payload);
        byte[] tampered = payload.clone();
        tampered[PART + 1] ^= 1;
        Files.write(Path.of(record.location()), tampered);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> worker.read(record));
        assertTrue(e.getMessage().contains("refused") && e.getMessage().contains("cannot be read"), e.getMessage());
    }
}
