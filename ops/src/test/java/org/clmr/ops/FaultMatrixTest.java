package org.clmr.ops;

import org.clmr.ops.FaultFixtures.Outcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault matrix (issue 18): what an operator's mistake, a damaged file, a full disk or a signal does, one row
 * per case: its setup and command, the exit code (0 ok, 1 failure at run time, 2 bad usage or configuration),
 * the line it must print (a pattern), and what must be unchanged afterwards. Rows run in order and share
 * fixtures ({@link FaultFixtures}: a generated dataset, a single-process run with checkpoints, a coordinator node
 * in this JVM, worker and local-cluster processes); a failing row names itself. A failure ends in one line and
 * no stack trace. The rows themselves are in {@link FaultRows}. Full-disk rows mount a small tmpfs, which needs
 * root; where mounting is not allowed they say so on stdout and check nothing.
 */
@Timeout(value = 25, unit = TimeUnit.MINUTES)
class FaultMatrixTest {
    /**
     * One case.
     *
     * @param exit      the exit code it must end with
     * @param message   a pattern its output must contain
     * @param unchanged what must hold afterwards (files unchanged, nothing left running, a run going on)
     */
    record Row(String name, Action action, int exit, String message, Check unchanged) {
    }

    /** What a row does. */
    interface Action {
        Outcome run() throws Exception;
    }

    /** What a row checks afterwards. */
    interface Check {
        void verify() throws Exception;

        Check NOTHING = () -> { };
    }

    private static FaultFixtures fx;

    @BeforeAll
    static void fixtures() throws Exception {
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "clmr-faults-").toAbsolutePath();
        fx = new FaultFixtures(dir);
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> matrix() throws Exception {
        List<Row> rows = new ArrayList<>();
        rows.addAll(FaultRows.usage(fx));
        rows.addAll(FaultRows.files(fx));
        rows.addAll(FaultRows.singleProcess(fx));
        rows.addAll(FaultRows.coordinator(fx));
        rows.addAll(FaultRows.workers(fx));
        rows.addAll(FaultRows.localCluster(fx));
        return rows.stream().map(r -> DynamicTest.dynamicTest(r.name(), () -> check(r)));
    }

    private static void check(Row r) throws Exception {
        Outcome o = r.action().run();
        assertEquals(r.exit(), o.exit(), r.name() + ": exit code; output:\n" + o.text());
        assertTrue(Pattern.compile(r.message()).matcher(o.text()).find(),
                r.name() + ": no /" + r.message() + "/ in:\n" + o.text());
        if (r.exit() != 0) {
            assertFalse(o.text().contains("\tat ") || o.text().contains("internal error"), r.name() + ": a trace:\n"
                    + o.text());
            if (o.out().isEmpty() && !o.err().isBlank() && o.err().startsWith("clmr ")) {
                assertEquals(1, o.err().strip().lines().count(), r.name() + ": more than one line:\n" + o.err());
            }
        }
        r.unchanged().verify();
    }
}
