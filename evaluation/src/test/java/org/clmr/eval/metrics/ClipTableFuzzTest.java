package org.clmr.eval.metrics;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.UserError;
import org.clmr.protocol.fuzz.ReaderContract;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link ClipTable#read} (the label and score CSVs of {@code clmr metrics}) with mutated tables: a table of
 * finite values, one per clip and tag, or one {@link UserError} line.
 */
public class ClipTableFuzzTest {

    /** Tables: labels, quoted fields with commas and quotes, scores with a BOM and blank lines. */
    public static Stream<byte[]> tables() {
        return Stream.of("clip_id,rock,pop\na,1,0\nb,0,1\n", "\"id\",\"a,b\",\"c\"\"d\"\n\"x\",0.5,-1e-3\n",
                "\uFEFFclip_id,t\n\nc1,0.25\r\nc2,1E2\n").map(s -> s.getBytes(StandardCharsets.UTF_8));
    }

    @MethodSource("tables")
    @FuzzTest(maxDuration = "20s")
    void anyClipTableBytes(byte[] input) {
        check(input);
    }

    /** The target. */
    public static void check(byte[] input) {
        Path file = null;
        try {
            file = Files.createTempFile("clmr-clips-fuzz", ".csv");
            Files.write(file, input);
            Path f = file;
            ReaderContract.check("ClipTable.read of " + input.length + " bytes", input.length,
                    ReaderContract.Allocation.BINARY, List.of(UserError.class), () -> ClipTable.read(f))
                    .ifPresent(t -> {
                        assertEquals(t.ids().size(), t.values().length);
                        for (double[] row : t.values()) {
                            assertEquals(t.tags().size(), row.length);
                            for (double v : row) {
                                assertTrue(Double.isFinite(v));
                            }
                        }
                    });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (file != null) {
                file.toFile().delete();
            }
        }
    }
}
