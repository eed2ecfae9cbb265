package org.clmr.coordinator;

import org.clmr.protocol.UserError;
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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Only the coordinator opens its H2 file: one that another process holds is refused without opening it. */
class RunDirLockTest {
    /** Opens the H2 database {@code args[0]} and holds it until its stdin closes. */
    public static final class HoldH2 {
        public static void main(String[] args) throws Exception {
            try (Connection c = DriverManager.getConnection(args[0], "sa", "")) {
                c.createStatement().execute("CREATE TABLE IF NOT EXISTS t (x INT)");
                System.out.println("holding");
                System.out.flush();
                while (System.in.read() >= 0) {
                    Thread.onSpinWait();
                }
            }
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void shouldRefuseAnH2FileAnotherProcessHoldsAndAcceptItOnceReleased(@TempDir Path runDir) throws Exception {
        String url = CoordinatorSettings.DatabaseSettings.defaultH2Url(runDir);
        assertDoesNotThrow(() -> RunDirLock.requireH2Closed(runDir, url), "no file yet");
        for (String holderUrl : new String[] {url.split(";", 2)[0], url}) {  // plain, and with AUTO_SERVER
            Process holder = JavaProcess.of(HoldH2.class).maxHeap("64m").args(holderUrl).pipeOutput().start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
                assertEquals("holding", out.readLine());
                UserError e = assertThrows(UserError.class, () -> RunDirLock.requireH2Closed(runDir, url), holderUrl);
                assertTrue(e.getMessage().startsWith("run dir " + runDir + ": its H2 database is open in another process"),
                        e.getMessage());
                assertTrue(e.getMessage().contains("only the coordinator may open it"), e.getMessage());
                holder.getOutputStream().close();
                assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
            } finally {
                holder.destroyForcibly();
            }
            assertDoesNotThrow(() -> RunDirLock.requireH2Closed(runDir, url), "released");
        }
        try (Connection own = DriverManager.getConnection(url, "sa", "")) {
            assertDoesNotThrow(() -> RunDirLock.requireH2Closed(runDir, url), "this process's own open database");
        }
    }
}
