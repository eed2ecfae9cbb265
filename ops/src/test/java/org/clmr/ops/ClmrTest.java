package org.clmr.ops;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClmrTest {

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void shouldPrintHelpAndExitZero() {
        Result r = run("--help");
        assertEquals(0, r.code);
        assertTrue(r.out.contains("config"), r.out);
    }

    @Test
    void shouldPrintTheResolvedConfigAndItsHash() {
        Result r = run("config", "--set", "run.seed=7");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("seed=7"), r.out);
        assertTrue(r.out.matches("(?s).*# config sha256: [0-9a-f]{64}.*"), r.out);
    }

    @Test
    void shouldExitTwoWithOneLineForANegativeGlobalBatch() {
        Result r = run("config", "--set", "run.global-batch=-4");
        assertEquals(2, r.code);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertTrue(r.err.contains("clmr.run.global-batch = -4"), r.err);
    }

    @Test
    void shouldExitTwoForAnUnknownOption() {
        Result r = run("config", "--frobnicate");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--frobnicate"), r.err);
    }
}
