package org.clmr.worker.step;

import org.clmr.protocol.process.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A thousand small steps hold no more native resources, and no more process memory, after warm-up than
 * at its end: in one process and with two ranks (threads over InProcessCollective, gradient buckets on
 * each rank's communication thread). Every host-device copy takes the same path on the CPU as on a GPU
 * ({@code Tensors}), so a copy that a step forgets to release grows the manager tree here as it would there.
 * The steps run in a child JVM whose heap is touched in full at start ({@code -XX:+AlwaysPreTouch}), so
 * that its resident set grows only with native memory, not as the garbage collector first touches heap, and
 * compiles in the foreground ({@code -Xbatch}), so that the JIT compiler's memory comes within the warm-up
 * however loaded the machine is.
 */
@Timeout(1200)
class StepMemoryTest {
    static final int STEPS = 1000;
    /** Steps before the counts: the JIT compiler settles within about 500 (measured: the resident set grows
     * 20 MiB from step 250 to 500, then under 1 MiB to step 1,500). */
    static final int WARM_UP = 500;
    /** Memory 500 steps may add: a leak of one tiny-model gradient a step (128 KiB) would add 62 MiB. */
    static final long RSS_SLACK = 16L << 20;
    static final Pattern LINE = Pattern.compile(
            "rank=(\\d+) resources=(\\d+)/(\\d+) rss=(\\d+)/(\\d+) ms=(\\S+) transfers=(\\S+) bytes=(\\d+)");

    @Test
    void shouldHoldNoMoreNativeResourcesNorMemoryAfterAThousandStepsInOneProcess() throws Exception {
        check(steps(1), 1);
    }

    @Test
    void shouldHoldNoMoreNativeResourcesNorMemoryAfterAThousandStepsOfTwoRanks() throws Exception {
        check(steps(2), 2);
    }

    private static void check(List<Matcher> lines, int ranks) {
        assertEquals(ranks, lines.size(), "one line per rank");
        for (Matcher m : lines) {
            String rank = "rank " + m.group(1) + " of " + ranks;
            assertEquals(m.group(2), m.group(3), rank + ": the manager tree's resources after warm-up and at the end");
            long grown = Long.parseLong(m.group(5)) - Long.parseLong(m.group(4));
            assertTrue(grown < RSS_SLACK, rank + ": the process's resident set grew by " + (grown >> 10)
                    + " KiB over " + (STEPS - WARM_UP) + " steps");
        }
    }

    private static List<Matcher> steps(int ranks) throws IOException, InterruptedException {
        Process p = JavaProcess.of(StepMemoryMain.class).maxHeap("384m")
                .jvmArg("-Xms384m").jvmArg("-XX:+AlwaysPreTouch").jvmArg("-Xbatch")
                .args(String.valueOf(ranks), String.valueOf(STEPS), String.valueOf(WARM_UP), "4")
                .pipeOutput().start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit");
        assertEquals(0, p.exitValue(), out);
        System.out.print(out);
        List<Matcher> lines = new ArrayList<>();
        for (String line : out.split("\\R")) {
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                lines.add(m);
            }
        }
        return lines;
    }
}
