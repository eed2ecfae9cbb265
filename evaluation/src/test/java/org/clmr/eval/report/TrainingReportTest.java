package org.clmr.eval.report;

import org.clmr.protocol.steplog.StepLog;
import org.clmr.protocol.steplog.StepRow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingReportTest {
    private static final Instant START = Instant.parse("2026-12-02T05:00:00Z");

    @TempDir
    Path dir;

    /**
     * A cluster run of 1200 steps: two workers, b removed at minute ~14 (step 700, after a 45 s stall), a alone
     * from there; a checkpoint every 100 steps; step 900 never reported.
     */
    private static TrainingReport.Run clusterRun(Path dir) throws IOException {
        Path file = StepLog.fileFor(dir, "r1");
        Random rng = new Random(3);
        List<RunEvent> events = new ArrayList<>();
        events.add(new RunEvent(START, 0, RunEvent.Kind.STARTED, "run r1 started", -1));
        events.add(new RunEvent(START.plusSeconds(3), 0, RunEvent.Kind.GENERATION, "g1: first members", 2));
        double t = 5;
        try (StepLog log = StepLog.open(file)) {
            for (long step = 1; step <= 1200; step++) {
                boolean both = step <= 700;
                t += both ? 1.2 : 1.5;
                if (step == 701) {
                    t += 45;
                    events.add(new RunEvent(START.plusMillis((long) ((t - 40) * 1000)), -1, RunEvent.Kind.REMOVAL,
                            "b removed: peer timeout", 1));
                    events.add(new RunEvent(START.plusMillis((long) ((t - 39) * 1000)), 700, RunEvent.Kind.GENERATION,
                            "g2: [a] timed out on [b] at step 700", 1));
                }
                if (step % 100 == 0) {
                    events.add(new RunEvent(START.plusMillis((long) (t * 1000)), step, RunEvent.Kind.CHECKPOINT,
                            "checkpoint of step " + step, -1));
                }
                if (step == 900) {
                    continue;
                }
                Map<String, Double> workers = new LinkedHashMap<>();  // shares 30 + 18 of 48, then 48 alone
                workers.put("a", (both ? 30 / 1.2 : 48 / 1.5) + 0.5 * rng.nextGaussian());
                if (both) {
                    workers.put("b", 18 / 1.2 + 0.5 * rng.nextGaussian());
                }
                double loss = 4.0 + 1.5 * Math.exp(-step / 300.0) + 0.08 * rng.nextGaussian();
                log.write(new StepRow(step, (int) (step / 100), loss, both ? 48 / 1.2 : 48 / 1.5, both ? 1 : 2,
                        both ? 2 : 1, new StepRow.Phases(30, 300, 20, both ? 250 : 5, 550, 15, both ? 1200 : 1500),
                        START.plusMillis((long) (t * 1000)), workers));
            }
        }
        List<TrainingReport.HistoryLine> history = List.of(
                new TrainingReport.HistoryLine(START, "started", "run r1 started: 12 epochs of 100 steps"),
                new TrainingReport.HistoryLine(START.plusSeconds(900), "removed", "b removed: peer timeout | odd"));
        return new TrainingReport.Run("r1", "A cluster run", file, events, history);
    }

    @Test
    void shouldWriteAMarkdownPageAndFiveReadablePlots() throws IOException {
        List<Path> files = TrainingReport.write(dir.resolve("report"), clusterRun(dir));
        assertEquals(6, files.size());
        for (Path png : files.subList(1, files.size())) {
            BufferedImage img = ImageIO.read(png.toFile());
            assertEquals(1680, img.getWidth(), png + ": 1100 x 520 points at 110 dpi");
            assertEquals(794, img.getHeight(), png.toString());
            assertTrue(colours(img) > 20, png + " has lines and text in several colours, not a blank plot");
        }
        String md = Files.readString(files.get(0));
        assertTrue(md.startsWith("# Training report: run r1\n"), md);
        assertTrue(md.contains("1199 steps (up to step 1200), from 2026-12-02 05:00:00 to "), md);
        assertTrue(md.contains("Steps missing from the log (reported to no coordinator): 900."), md);
        assertTrue(md.contains("- checkpoints committed: 12 (the last of step 1200)"), md);
        assertTrue(md.contains("- generations: 2; workers removed: 1; workers: a, b"), md);
        assertTrue(md.contains("min: g2: [a] timed out on [b] at step 700"), md);
        assertTrue(md.contains("| backward | 550.0 | 41.5% |"), md);
        assertTrue(md.contains("b removed: peer timeout \\| odd"), "a | in history text is escaped: " + md);
        for (String png : List.of("loss.png", "throughput.png", "step-time.png", "timeline.png", "members.png")) {
            assertTrue(md.contains("](" + png + ")"), png);
        }
    }

    @Test
    void shouldAverageConsecutiveStepsOfALongLogAndStillFindItsGaps() {
        StepSeries s = new StepSeries(100);
        for (long step = 1; step <= 10_000; step++) {
            if (step != 4321) {
                s.accept(new StepRow(step, 0, step, 10, 0, 1, new StepRow.Phases(1, 2, 3, 4, 5, 6, 21),
                        START.plusSeconds(step), Map.of()));
            }
        }
        assertEquals(9_999, s.rows());
        assertTrue(s.points().size() <= 200 && s.points().size() >= 50, "points: " + s.points().size());
        assertEquals(List.of(4321L, 4321L), List.of(s.gaps().get(0)[0], s.gaps().get(0)[1]));
        StepSeries.Point first = s.points().get(0);
        assertEquals((1 + first.step()) / 2.0, first.loss(), 1e-9, "a point is the mean of its steps");
        assertEquals(10_000, s.points().get(s.points().size() - 1).step());
    }

    private static int colours(BufferedImage img) {
        Set<Integer> seen = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                seen.add(img.getRGB(x, y));
            }
        }
        return seen.size();
    }
}
