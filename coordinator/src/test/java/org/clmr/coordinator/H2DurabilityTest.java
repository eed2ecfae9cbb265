package org.clmr.coordinator;

import org.clmr.protocol.process.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the coordinator commits to its default H2 file survives a SIGKILL right after the commit: an event the
 * coordinator acted on (a checkpoint recorded, a generation started) is in the journal when it starts again. H2
 * by default writes a commit up to half a second later (WRITE_DELAY), and a process killed meanwhile loses it.
 */
class H2DurabilityTest {
    private static final int ROWS = 5;

    /** Commits {@value #ROWS} rows, one transaction each, says so, and waits to be killed. */
    public static final class CommitThenWait {
        public static void main(String[] args) throws Exception {
            Connection c = DriverManager.getConnection(args[0], "sa", "");
            c.createStatement().execute("CREATE TABLE IF NOT EXISTS t (x INT)");
            for (int i = 0; i < ROWS; i++) {
                c.createStatement().execute("INSERT INTO t VALUES (" + i + ")");
            }
            System.out.println("committed");
            System.out.flush();
            Thread.sleep(60_000);
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void shouldKeepEveryCommitOfAProcessKilledRightAfterIt(@TempDir Path runDir) throws Exception {
        String url = CoordinatorSettings.DatabaseSettings.defaultH2Url(runDir);
        Process p = JavaProcess.of(CommitThenWait.class).maxHeap("64m").args(url).pipeOutput().start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("committed", out.readLine());
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet r = c.createStatement().executeQuery("SELECT COUNT(*) FROM t")) {
            assertTrue(r.next());
            assertEquals(ROWS, r.getInt(1), "rows committed before the SIGKILL");
        }
    }
}
