package org.clmr.ops.bench;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WarmupTest {
    /** Fresh native memory, every page written: 16 MiB resident more per call (~4,000 faults, or 8 with huge pages). */
    private static final class Grower implements Runnable {
        final List<ByteBuffer> kept = new ArrayList<>();
        int growing;
        int runs;

        Grower(int growing) {
            this.growing = growing;
        }

        @Override
        public void run() {
            runs++;
            if (runs <= growing) {
                ByteBuffer b = ByteBuffer.allocateDirect(16 << 20);
                for (int i = 0; i < b.capacity(); i += 4096) {
                    b.put(i, (byte) 1);
                }
                kept.add(b);
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
