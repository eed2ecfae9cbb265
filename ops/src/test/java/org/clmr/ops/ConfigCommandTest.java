package org.clmr.ops;

import org.clmr.protocol.process.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code clmr config} never prints a secret: not from the environment, not from --set, not inside a URL. */
class ConfigCommandTest {
    private static final String DB_PASSWORD = "db-" + Long.toHexString(System.nanoTime()) + "-secret";
    private static final String STORE_PASSWORD = "store-" + Long.toHexString(System.nanoTime()) + "-secret";

    @TempDir
    Path dir;

    /** As the runbook has it: a --config file takes the password from the environment, the operator runs clmr config. */
    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void shouldNotPrintAPasswordFromTheEnvironment() throws Exception {
        Path conf = dir.resolve("clmr.conf");
        Files.writeString(conf, "clmr {\n"
                + "  coordinator.database { kind = postgresql, url = \"jdbc:postgresql://10.0.0.5:5432/clmr\","
                + " user = clmr, password = ${?CLMR_DB_PASSWORD} }\n"
                + "  worker.cluster.checkpoint { url = \"jdbc:postgresql://10.0.0.5:5432/clmr\", user = clmr,"
                + " password = ${?CLMR_DB_PASSWORD} }\n"
                + "  security.tls { key-store = /etc/clmr/node.p12, trust-store = /etc/clmr/trust.p12,"
                + " key-store-password = ${?CLMR_KEY_STORE_PASSWORD} }\n"
                + "}\n");
        Process p = JavaProcess.of(ClmrProcess.MAIN_CLASS).args("config", "--config", conf.toString())
                .env("CLMR_DB_PASSWORD", DB_PASSWORD).env("CLMR_KEY_STORE_PASSWORD", STORE_PASSWORD)
                .pipeOutput().start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
        assertFalse(output.contains(DB_PASSWORD), output);
        assertFalse(output.contains(STORE_PASSWORD), output);
        assertEquals(3, output.split("<redacted>", -1).length - 1, "two database passwords and the key store's: " + output);
        assertTrue(output.contains("user=clmr") && output.contains("/etc/clmr/node.p12"), "everything else is shown: " + output);
    }

    @Test
    void shouldNotPrintAPasswordGivenWithSetOrInsideAUrl() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Clmr.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("config", "--set", "coordinator.database.password=" + DB_PASSWORD,
                "--set", "coordinator.database.kind=postgresql",
                "--set", "coordinator.database.url=\"jdbc:postgresql://clmr:" + STORE_PASSWORD + "@db:5432/clmr\"");
        assertEquals(0, code, err.toString());
        assertFalse(out.toString().contains(DB_PASSWORD) || out.toString().contains(STORE_PASSWORD), out.toString());
        assertTrue(out.toString().contains("jdbc:postgresql://clmr:<redacted>@db:5432/clmr"), out.toString());
    }

    @Test
    void shouldExitTwoNamingABadSecurityValue() {
        StringWriter err = new StringWriter();
        CommandLine cl = Clmr.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        assertEquals(2, cl.execute("config", "--set", "security.tls.key-store=/etc/clmr/node.p12"));
        assertTrue(err.toString().contains("clmr.security.tls.trust-store"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }
}
