package org.clmr.eval.features;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.UserError;
import org.clmr.protocol.fuzz.ReaderContract;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fuzzes {@link Npy#read} (the feature cache's matrices) with mutated files: a matrix whose shape the data fills,
 * or one {@link UserError} line; never an allocation the file's size cannot back.
 */
public class NpyFuzzTest {

    /** Matrices as {@link Npy#write} makes them: empty, one row, 3 x 5. */
    public static Stream<byte[]> matrices() {
        return Stream.of(bytes(0, 4), bytes(1, 3), bytes(3, 5));
    }

    private static byte[] bytes(int rows, int cols) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("clmr-npy-seed");
            float[] data = new float[rows * cols];
            for (int i = 0; i < data.length; i++) {
                data[i] = i * 0.5f - 1;
            }
            Path f = dir.resolve("m.npy");
            Npy.write(f, rows, cols, data);
            byte[] b = Files.readAllBytes(f);
            Files.delete(f);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (dir != null) {
                dir.toFile().delete();
            }
        }
    }

    @MethodSource("matrices")
    @FuzzTest(maxDuration = "20s")
    void anyNpyBytes(byte[] input) {
        check(input);
    }

    /** The target. */
    public static void check(byte[] input) {
        Path file = null;
        try {
            file = Files.createTempFile("clmr-npy-fuzz", ".npy");
            Files.write(file, input);
            Path f = file;
            ReaderContract.check("Npy.read of " + input.length + " bytes", input.length, ReaderContract.Allocation.BINARY,
                    List.of(UserError.class), () -> Npy.read(f))
                    .ifPresent(m -> assertEquals((long) m.rows() * m.cols(), m.data().length));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (file != null) {
                file.toFile().delete();
            }
        }
    }
}
