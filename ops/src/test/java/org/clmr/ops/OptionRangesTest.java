package org.clmr.ops;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every count and size on the command line has a range (issue 18): each numeric option of each command is in
 * {@link OptionRanges}, and zero or a negative value where it is not allowed is refused before the command runs,
 * as bad usage (exit 2), in one line naming the option, the value and the range.
 */
class OptionRangesTest {

    @Test
    void shouldHaveARangeForEveryNumericOptionOfEveryCommand() {
        CommandLine root = Clmr.commandLine();
        List<String> options = OptionRanges.numericOptions(root);
        assertTrue(options.size() >= 40, options.toString());
        for (String o : options) {
            int space = o.lastIndexOf(' ');
            CommandLine cl = root;
            for (String name : o.substring(0, space).split(" ")) {
                cl = cl.getSubcommands().get(name);
            }
            assertTrue(OptionRanges.rangeOf("clmr " + o.substring(0, space), cl.getCommandSpec()
                    .findOption(o.substring(space + 1))).isPresent(), "no range for clmr " + o);
        }
    }

    @Test
    void shouldRefuseZeroAndNegativeCountsNamingTheOption() {
        List<List<String>> cases = List.of(
                List.of("train", "--batch", "0"),
                List.of("train", "--steps", "-1"),
                List.of("train", "--workers", "0", "--dataset", "d"),
                List.of("prepare", "--generate", "0", "--out", "o"),
                List.of("prepare", "--seconds", "0", "--generate", "4", "--out", "o"),
                List.of("demo", "--tracks", "-5"),
                List.of("worker", "--max-restarts", "-1", "--seed-nodes", "h:1", "--dataset", "d"),
                List.of("control", "start", "--tracks", "0", "--run-id", "r", "--dataset-hash", "h"),
                List.of("bench", "step", "--iterations", "0"),
                List.of("evaluate", "--label-fraction", "0", "--dataset", "d", "--out", "o", "--encoder", "random"));
        for (List<String> args : cases) {
            StringWriter err = new StringWriter();
            CommandLine cl = Clmr.commandLine();
            cl.setErr(new PrintWriter(err, true));
            cl.setOut(new PrintWriter(new StringWriter(), true));
            int code = cl.execute(args.toArray(String[]::new));
            String option = args.stream().filter(a -> a.startsWith("--")).findFirst().orElseThrow();
            assertEquals(Clmr.EXIT_USAGE, code, args + ": " + err);
            assertTrue(err.toString().contains(option + " = ") && err.toString().contains("must be"), args + ": " + err);
            assertEquals(1, err.toString().strip().lines().count(), args + ": " + err);
        }
    }
}
