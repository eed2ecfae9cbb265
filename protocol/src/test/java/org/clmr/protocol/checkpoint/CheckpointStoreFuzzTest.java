package org.clmr.protocol.checkpoint;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.fuzz.ReaderContract;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Fuzzes the directory store's readers: an input is a record file ({@code step-N.json}) and the checkpoint
 * file beside it (two bytes of record length, the record, then the payload). Listing the run and reading every
 * listed checkpoint back ends in records and payloads, or in a one-line {@link CheckpointCorruptException};
 * a record never points the store at a file outside the run's directory.
 */
public class CheckpointStoreFuzzTest {
    private static final String RUN = "run-1";

    /** A record and payload as the store writes them, and the record with another file name. */
    public static Stream<byte[]> storedCheckpoints() {
        Path root = tempRoot();
        try {
            DirectoryCheckpointStore store = new DirectoryCheckpointStore(root);
            byte[] payload = CheckpointPayloadFuzzTest.soundCheckpoints().skip(1).findFirst().orElseThrow();
            CheckpointRecord r = store.write(RUN, 7, 1, 3, "hash", payload);
            byte[] record = Files.readAllBytes(Path.of(r.location()).resolveSibling("step-000000000007.json"));
            return Stream.of(input(record, payload), input(new String(record, StandardCharsets.UTF_8)
                    .replace("step-000000000007.ckpt", "../run-2/x.ckpt").getBytes(StandardCharsets.UTF_8), payload));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            delete(root);
        }
    }

    @MethodSource("storedCheckpoints")
    @FuzzTest(maxDuration = "20s")
    void anyStoredCheckpoint(byte[] input) {
        check(input);
    }

    /** The target. */
    public static void check(byte[] input) {
        if (input.length < 2) {
            return;
        }
        int recordLength = Math.min(input.length - 2, ((input[0] & 0xFF) << 8) | (input[1] & 0xFF));
        Path root = tempRoot();
        try {
            Path dir = Files.createDirectories(root.resolve(RUN));
            Files.write(dir.resolve("step-000000000007.json"), java.util.Arrays.copyOfRange(input, 2, 2 + recordLength));
            Files.write(dir.resolve("step-000000000007.ckpt"), java.util.Arrays.copyOfRange(input, 2 + recordLength, input.length));
            DirectoryCheckpointStore store = new DirectoryCheckpointStore(root);
            ReaderContract.check("DirectoryCheckpointStore of a " + recordLength + "-byte record", input.length,
                    ReaderContract.Allocation.BINARY, List.of(CheckpointCorruptException.class), () -> {
                        for (CheckpointRecord r : store.list(RUN)) {
                            if (!Path.of(r.location()).toAbsolutePath().normalize().startsWith(dir.toAbsolutePath())) {
                                throw new AssertionError("record points outside the run: " + r.location());
                            }
                            CheckpointPayload.decode(store.read(r));
                        }
                        return null;
                    });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            delete(root);
        }
    }

    private static byte[] input(byte[] record, byte[] payload) {
        return ByteBuffer.allocate(2 + record.length + payload.length).putShort((short) record.length).put(record)
                .put(payload).array();
    }

    private static Path tempRoot() {
        try {
            return Files.createTempDirectory("clmr-store-fuzz");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
