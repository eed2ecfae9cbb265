package org.clmr.ops;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    @Test
    void shouldStartChildProcessesWithTheCliRootAsTheirMainClass() {
        assertEquals(Clmr.class.getName(), ClmrProcess.MAIN_CLASS);
        assertTrue(ClmrProcess.of(List.of("driver", "--dir", "d")).command()
                .containsAll(List.of(Clmr.class.getName(), "driver", "--dir", "d")));
    }

    /** Clmr lists the commands as subcommands; a command that referred back to it would close an import circle. */
    @Test
    void shouldNotBeReferencedByAnyMainClassBelowTheCliRoot() throws IOException {
        Pattern root = Pattern.compile("\\borg\\.clmr\\.ops\\.Clmr\\b");
        Path ops = Path.of("src", "main", "java", "org", "clmr", "ops");
        List<Path> below;
        try (Stream<Path> files = Files.walk(ops)) {
            below = files.filter(f -> f.toString().endsWith(".java") && !f.getParent().equals(ops))
                    .collect(Collectors.toList());
        }
        assertFalse(below.isEmpty(), "no sources below " + ops.toAbsolutePath());
        for (Path f : below) {
            assertFalse(root.matcher(Files.readString(f)).find(), f + " refers to org.clmr.ops.Clmr; use ClmrProcess");
        }
    }
}
