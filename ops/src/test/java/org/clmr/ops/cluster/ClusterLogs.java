package org.clmr.ops.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** What the real-process cluster tests read from the logs of coordinator and worker processes. */
final class ClusterLogs {
    /** A worker's line per completed step. */
    static final Pattern STEP = Pattern.compile(
            "step generation=(\\d+) rank=(\\d+) step=(\\d+) epoch=\\d+ loss=(\\S+) samples/s=\\S+ fingerprint=(\\S+)");
    /** The coordinator's line naming its HTTP endpoint (group 1: host:port). */
    static final Pattern HTTP = Pattern.compile("status: +http://([\\d.]+:\\d+)/status");

    /** One step line of a worker's log. */
    record StepLine(long generation, int rank, long step, double loss, String fingerprint) {
    }

    private ClusterLogs() {
    }

    /** Every step line of {@code log}, in order (none when the file does not exist yet). */
    static List<StepLine> steps(Path log) throws IOException {
        List<StepLine> out = new ArrayList<>();
        if (!Files.exists(log)) {
            return out;
        }
        for (String line : Files.readAllLines(log)) {
            Matcher m = STEP.matcher(line);
            if (m.find()) {
                out.add(new StepLine(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)),
                        Long.parseLong(m.group(3)), Double.parseDouble(m.group(4)), m.group(5)));
            }
        }
        return out;
    }

    /** Steps a worker completed, each once, without a gap between its first and last. */
    static void assertContiguous(List<StepLine> steps, String who) {
        assertFalse(steps.isEmpty(), who + " trained");
        Set<Long> seen = new HashSet<>();
        long previous = steps.get(0).step() - 1;
        for (StepLine s : steps) {
            assertTrue(seen.add(s.step()), who + " repeated step " + s.step());
            assertTrue(s.step() == previous + 1 || s.step() > previous, who + " went back to step " + s.step());
            assertEquals(previous + 1, s.step(), who + " skipped from step " + previous + " to " + s.step());
            previous = s.step();
        }
    }

    /**
     * Polls {@code log} until {@code pattern} matches and returns the match; fails the test, with the log, when
     * {@code process} exits first or nothing matches within {@code within}.
     */
    static Matcher await(Path log, Pattern pattern, Process process, Duration within)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(read(log));
            if (m.find()) {
                return m;
            }
            if (!process.isAlive()) {
                fail("process exited (" + process.exitValue() + ") before printing " + pattern + ":\n" + read(log));
            }
            Thread.sleep(200);
        }
        fail("no " + pattern + " within " + within.toSeconds() + " s in " + log + ":\n" + read(log));
        return null;
    }

    /** Group 1 of the match if the pattern has a group, else the whole match. */
    static String awaitValue(Path log, Pattern pattern, Process process, Duration within)
            throws IOException, InterruptedException {
        Matcher m = await(log, pattern, process, within);
        return m.groupCount() > 0 ? m.group(1) : m.group();
    }

    private static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }
}
