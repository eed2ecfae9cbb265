package org.clmr.ops.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The class-data training run goes through a coordinator's start, a run started over HTTP with the token, and a
 * restart that recovers it (it throws when a step fails, and the launcher keeps no archive then).
 */
class CoordinatorClassDataTest {
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldStartARunAndRecoverItOnThrowAwayKeys(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        CoordinatorClassData.main(new String[] {run.toString()});
        assertTrue(Files.exists(run.resolve("coordinator.mv.db")), "the journal's database");
        assertTrue(Files.isDirectory(run.resolve("keys")), "throw-away keys");
        assertThrows(IllegalArgumentException.class, () -> CoordinatorClassData.main(new String[0]));
    }
}
