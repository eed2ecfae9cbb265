package org.clmr.protocol.steplog;

import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepLogTest {
    @TempDir
    Path dir;

    private static StepRow row(long step, long generation, double loss) {
        Map<String, Double> workers = new LinkedHashMap<>();
        workers.put("10.0.0.1/cuda:0/4711", 12.5);
        workers.put("w;b=2", 7.25);
        return new StepRow(step, (int) (step / 10), loss, 19.75, generation, 2,
                StepRow.Phases.ofNanos(2_000_000, 10_000_000, 1_000_000, 3_000_000, 20_000_000, 500_000, 40_000_000),
                Instant.parse("2026-12-02T05:00:00.123456Z").plusSeconds(step), workers);
    }

    private static List<Long> steps(Path file) {
        return StepLog.read(file).stream().map(StepRow::step).toList();
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    @Test
    void shouldReadBackWhatItWroteOneRowPerStep() throws IOException {
        Path file = StepLog.fileFor(dir, "run/1 a");
        assertEquals("steps-run_1_a.csv", file.getFileName().toString());
        try (StepLog log = StepLog.open(file)) {
            for (long s = 1; s <= 3; s++) {
                log.write(row(s, 1, 5.0 - s));
            }
        }
        List<StepRow> rows = StepLog.read(file);
        assertEquals(3, rows.size());
        StepRow r = rows.get(1);
        assertEquals(2, r.step());
        assertEquals(3.0, r.loss(), 1e-9);
        assertEquals(0.05, r.phases().dataWaitShare(), 1e-9);
        assertEquals(40.0, r.phases().stepMs(), 1e-9);
        assertEquals(Instant.parse("2026-12-02T05:00:02.123Z"), r.time());
        assertEquals(Map.of("10.0.0.1/cuda:0/4711", 12.5, "w_b_2", 7.25), r.workers());
        assertTrue(Files.readString(file).startsWith(StepRow.HEADER + "\n"));
    }

    @Test
    void shouldReplaceARecomputedStepAndEveryRowAfterItNeverRepeatingOne() throws IOException {
        Path file = dir.resolve("steps.csv");
        try (StepLog log = StepLog.open(file)) {
            for (long s = 1; s <= 7; s++) {
                log.write(row(s, 1, 1.0));
            }
        }
        // a resume from the checkpoint of step 4 recomputes 5, 6, 7 and goes on
        try (StepLog log = StepLog.open(file)) {
            assertEquals(7, log.lastStep());
            assertEquals(1, log.lastGeneration());
            for (long s = 5; s <= 9; s++) {
                log.write(row(s, 2, 2.0));
            }
        }
        assertEquals(range(1, 9), steps(file));
        List<StepRow> rows = StepLog.read(file);
        assertEquals(1.0, rows.get(3).loss());
        assertEquals(2.0, rows.get(4).loss(), "step 5's row is the recomputed one");
        assertEquals(2, rows.get(4).generation());
    }

    @Test
    void shouldFindTheRowToReplaceBeyondTheFirstWindowRead() throws IOException {
        Path file = dir.resolve("long.csv");
        try (StepLog log = StepLog.open(file)) {
            for (long s = 1; s <= 3000; s++) {  // ~500 KiB: several 64 KiB windows back
                log.write(row(s, 1, 1.0));
            }
            log.write(row(10, 2, 3.0));
            log.write(row(11, 2, 3.0));
        }
        assertEquals(range(1, 11), steps(file));
        try (StepLog log = StepLog.open(file)) {
            log.write(row(1, 3, 4.0));
        }
        assertEquals(List.of(1L), steps(file));
    }

    @Test
    void shouldCutALineTornByACrashAndGoOn() throws IOException {
        Path file = dir.resolve("torn.csv");
        try (StepLog log = StepLog.open(file)) {
            for (long s = 1; s <= 4; s++) {
                log.write(row(s, 1, 1.0));
            }
        }
        String fifth = row(5, 1, 1.0).toCsv();
        Files.writeString(file, fifth.substring(0, 30), StandardOpenOption.APPEND);
        assertEquals(range(1, 4), steps(file), "a reader leaves the torn line out");
        try (StepLog log = StepLog.open(file)) {
            assertEquals(4, log.lastStep());
            log.write(row(5, 1, 1.0));
        }
        assertEquals(range(1, 5), steps(file));
        assertEquals(StepRow.HEADER.length() + 1 + 5 * (fifth.length() + 1), Files.size(file));
    }

    @Test
    void shouldMoveAsideAFileThatIsNotAStepLogAndStartAnew() throws IOException {
        Path file = dir.resolve("steps-x.csv");
        Files.writeString(file, "step,loss\n1,2.0\n");
        try (StepLog log = StepLog.open(file)) {
            assertEquals(0, log.lastStep());
            log.write(row(1, 0, 1.0));
        }
        assertEquals(List.of(1L), steps(file));
        try (var s = Files.list(dir)) {
            Path aside = s.filter(p -> p.getFileName().toString().startsWith("steps-x.csv.unrecognised-")).findFirst()
                    .orElseThrow();
            assertEquals("step,loss\n1,2.0\n", Files.readString(aside, StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldNameTheFileAndLineOfARowItCannotRead() throws IOException {
        Path file = dir.resolve("bad.csv");
        Files.writeString(file, StepRow.HEADER + "\n" + row(1, 0, 1.0).toCsv() + "\n1,2,3\n");
        UserError e = assertThrows(UserError.class, () -> StepLog.read(file));
        assertTrue(e.getMessage().contains("bad.csv line 3"), e.getMessage());
        Path other = dir.resolve("other.csv");
        Files.writeString(other, "a,b\n");
        assertTrue(assertThrows(UserError.class, () -> StepLog.read(other)).getMessage().contains("not a clmr step log"));
    }
}
