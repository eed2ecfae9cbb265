package org.clmr.protocol.checkpoint;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.Sha256;
import org.clmr.protocol.fuzz.ReaderContract;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Fuzzes {@link CheckpointPayload#decode} with mutated checkpoints. Each input is decoded as it is and once more
 * with its SHA-256 trailer recomputed, so that mutations reach the header and the tensor layout behind the
 * digest (anyone can write a well-sealed checkpoint: the digest guards against damage, not against a writer).
 * A checkpoint that decodes encodes back to the same bytes.
 */
public class CheckpointPayloadFuzzTest {

    /** Sound checkpoints: without tensors, with two, with a scalar. */
    public static Stream<byte[]> soundCheckpoints() {
        CheckpointPayload.Tensor w = new CheckpointPayload.Tensor("conv.weight", new long[] {2, 1, 3},
                new float[] {1, -2, 3.5f, 0, Float.MIN_VALUE, -0f});
        CheckpointPayload.Tensor b = new CheckpointPayload.Tensor("bn.mean", new long[] {2}, new float[] {0.5f, 2});
        CheckpointPayload.Tensor scalar = new CheckpointPayload.Tensor("s", new long[] {}, new float[] {7});
        return Stream.of(
                new CheckpointPayload(0, 0, "{}", "a", "b", Map.of(), List.of()),
                new CheckpointPayload(2, 120, "{\"seed\":1}", "ab12", "cd34", Map.of("adam.step", 120L), List.of(w, b)),
                new CheckpointPayload(1, 9, "", "", "", Map.of("x", -1L, "y", 1L << 40), List.of(scalar, b)))
                .map(CheckpointPayload::encode);
    }

    @MethodSource("soundCheckpoints")
    @FuzzTest(maxDuration = "20s")
    void anyCheckpointBytes(byte[] input) {
        check(input);
    }

    /** The target: one input decoded as given and resealed. */
    public static void check(byte[] input) {
        decode("as given", input);
        decode("resealed", resealed(input));
    }

    /** The input with its last 32 bytes replaced by the SHA-256 of the rest (inputs of 32 bytes or more). */
    static byte[] resealed(byte[] input) {
        byte[] b = input.clone();
        if (b.length >= 32) {
            byte[] digest = Sha256.digest(b, 0, b.length - 32);
            System.arraycopy(digest, 0, b, b.length - 32, 32);
        }
        return b;
    }

    private static void decode(String how, byte[] bytes) {
        Optional<CheckpointPayload> p = ReaderContract.check("CheckpointPayload.decode of " + bytes.length + " bytes "
                + how, bytes.length, ReaderContract.Allocation.BINARY, List.of(CheckpointCorruptException.class),
                () -> CheckpointPayload.decode(bytes));
        p.ifPresent(payload -> assertArrayEquals(payload.encode(), CheckpointPayload.decode(payload.encode()).encode()));
    }
}
