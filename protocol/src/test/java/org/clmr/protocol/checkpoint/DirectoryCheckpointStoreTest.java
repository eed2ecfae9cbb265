package org.clmr.protocol.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectoryCheckpointStoreTest {

    private static CheckpointPayload payload(long step) {
        return new CheckpointPayload(1, step, "{\"seed\":1}", "rh", "ch", Map.of("adam.step", step),
                List.of(new CheckpointPayload.Tensor("w", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, (float) step}),
                        new CheckpointPayload.Tensor("b", new long[] {1}, new float[] {Float.MIN_VALUE})));
    }

    @Test
    void shouldRoundTripAPayloadThroughItsBinaryForm() {
        CheckpointPayload p = payload(7);
        CheckpointPayload back = CheckpointPayload.decode(p.encode());
        assertEquals(p, back);
        assertEquals(7L, back.counter("adam.step"));
    }

    @Test
    void shouldRefuseAPayloadWithAFlippedByte() {
        byte[] bytes = payload(7).encode();
        bytes[bytes.length - 40] ^= 1;
        CheckpointCorruptException e = assertThrows(CheckpointCorruptException.class, () -> CheckpointPayload.decode(bytes));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
    }

    @Test
    void shouldWriteListReadAndPrune(@TempDir Path dir) {
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir);
        for (long s = 1; s <= 4; s++) {
            store.write("run-1", s * 10, (int) s, 0, "rh", payload(s * 10).encode());
        }
        List<CheckpointRecord> all = store.list("run-1");
        assertEquals(List.of(10L, 20L, 30L, 40L), all.stream().map(CheckpointRecord::step).toList());
        assertEquals(payload(30), CheckpointPayload.decode(store.read(store.find("run-1", 30).orElseThrow())));
        List<CheckpointRecord> doomed = store.prune("run-1", new RetentionPolicy(2, 0));
        assertEquals(List.of(10L, 20L), doomed.stream().map(CheckpointRecord::step).toList());
        assertEquals(List.of(30L, 40L), store.list("run-1").stream().map(CheckpointRecord::step).toList());
        assertEquals(40L, store.latest("run-1").orElseThrow().step());
        try (var files = Files.list(dir.resolve("run-1"))) {
            assertEquals(4, files.count(), "two payloads and two records, no temporaries");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void shouldRefuseAFileChangedOnDisk(@TempDir Path dir) throws IOException {
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir);
        CheckpointRecord r = store.write("run", 5, 0, 0, "rh", payload(5).encode());
        byte[] bytes = Files.readAllBytes(Path.of(r.location()));
        bytes[20] ^= 0x10;
        Files.write(Path.of(r.location()), bytes);
        CheckpointCorruptException e = assertThrows(CheckpointCorruptException.class, () -> store.read(r));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        Files.write(Path.of(r.location()), new byte[] {1, 2});
        assertThrows(CheckpointCorruptException.class, () -> store.read(r));
    }

    @Test
    void shouldKeepRunsApart(@TempDir Path dir) {
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir);
        store.write("a", 1, 0, 0, "rh", payload(1).encode());
        assertEquals(List.of(), store.list("b"));
        assertArrayEquals(payload(1).encode(), store.read(store.latest("a").orElseThrow()));
        assertThrows(IllegalArgumentException.class, () -> store.list("../x"));
    }
}
