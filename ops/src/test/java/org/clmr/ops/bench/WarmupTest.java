package org.clmr.ops.bench;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WarmupTest {
    /**
     * Fresh pages, every one written: each call maps 16 MiB more of a new temporary file (kept, so never reused) and
     * writes a byte per page, 16 MiB more resident (~4,000 faults, or a few with huge pages). Not malloc'd memory:
     * the surefire JVM keeps freed native memory resident (MALLOC_TRIM_THRESHOLD_), so a direct buffer could reuse
     * pages that an earlier test faulted in and fault nothing.
     */
    private static final class Grower implements Runnable {
        final List<MappedByteBuffer> kept = new ArrayList<>();
        final FileChannel file;
        int growing;
        int runs;

        Grower(int growing) {
            this.growing = growing;
            try {
                Path f = Files.createTempFile("clmr-warmup-", ".bin");
                file = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE,
                        StandardOpenOption.DELETE_ON_CLOSE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void run() {
            runs++;
            if (runs <= growing) {
                try {
                    MappedByteBuffer b = file.map(FileChannel.MapMode.READ_WRITE, (long) kept.size() << 24, 16 << 20);
                    for (int i = 0; i < b.capacity(); i += 4096) {
                        b.put(i, (byte) 1);
                    }
                    kept.add(b);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    @Test
    void shouldWarmUpUntilTwoRunsInARowFaultNoFreshPagesIn() {
        assertTrue(Warmup.minorFaults() > 0, "this test needs Linux /proc/self/stat");
        Grower g = new Grower(3);
        assertEquals(3 + Warmup.SETTLED_RUNS, new Warmup(1, 12).run(g));
    }

    @Test
    void shouldStopAtTheMaximumWhileStillFaulting() {
        Grower g = new Grower(Integer.MAX_VALUE);
        assertEquals(4, new Warmup(1, 4).run(g));
    }

    @Test
    void shouldRunAtLeastTheMinimumAndNotAtAllForZero() {
        assertEquals(5, new Warmup(5, 12).run(new Grower(0)));
        Grower none = new Grower(0);
        assertEquals(0, new Warmup(0, 12).run(none));
        assertEquals(0, none.runs);
    }
}
