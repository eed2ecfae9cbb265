package org.clmr.ops;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@code clmr} command line ({@code ./clmr ...} or {@code clmr ...}) in the code blocks of ops/RUNBOOK.md parses (its subcommands and options
 * exist) and its configuration ({@code --config}, {@code --set}) loads and validates. Shell variables are
 * replaced by the values the runbook assigns them; {@code /etc/clmr/clmr.conf} is read from the example in
 * ops/systemd.
 */
class RunbookTest {
    private static final Path RUNBOOK = Path.of("RUNBOOK.md");
    private static final Pattern ASSIGNMENT = Pattern.compile("^([A-Z_][A-Z0-9_]*)=(\\S+)");
    private static final Pattern SHELL_VARIABLE = Pattern.compile("\\$\\{?([A-Z_][A-Z0-9_]*)}?");
    private static final List<String> SECTIONS = List.of("## Start a run", "## Watch it", "## Add a machine",
            "## Drain a worker", "## Replace a failed GPU", "## Move the coordinator to another host",
            "## Restore from a checkpoint");

    @Test
    void shouldUseOnlyCommandsOptionsAndKeysThatExistInEveryRunbookCommand() throws IOException {
        String text = Files.readString(RUNBOOK);
        for (String s : SECTIONS) {
            assertTrue(text.contains("\n" + s + "\n"), "RUNBOOK.md lacks the section " + s);
        }
        List<MarkdownCode.Line> lines = MarkdownCode.lines(text);
        Map<String, String> variables = new HashMap<>();
        for (MarkdownCode.Line l : lines) {
            Matcher m = ASSIGNMENT.matcher(l.text());
            if (m.find() && !l.text().contains("clmr ")) {
                variables.put(m.group(1), m.group(2));
            }
        }
        Map<String, Path> configs = Map.of("/etc/clmr/clmr.conf", Path.of("systemd", "clmr.conf"));
        List<String> checked = new ArrayList<>();
        for (MarkdownCode.Line l : lines) {
            List<String> words = MarkdownCode.words(l.text());
            int at = words.indexOf("./clmr");
            if (at < 0 && !words.isEmpty() && words.get(0).equals("clmr")) {
                at = 0;
            }
            if (at < 0) {
                continue;
            }
            List<String> args = new ArrayList<>();
            for (String w : words.subList(at + 1, words.size())) {
                args.add(substitute(w, variables, l));
            }
            List<String> chain = CommandCheck.check(args, configs, List.of(), "RUNBOOK.md line " + l.number());
            checked.add(String.join(" ", chain));
        }
        for (String needed : List.of("coordinator", "worker", "worker drain", "control", "status")) {
            assertTrue(checked.contains(needed), "no `clmr " + needed + "` in the runbook: " + checked);
        }
    }

    private static String substitute(String word, Map<String, String> variables, MarkdownCode.Line l) {
        Matcher m = SHELL_VARIABLE.matcher(word);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String value = variables.get(m.group(1));
            if (value == null) {
                throw new AssertionError("RUNBOOK.md line " + l.number() + ": $" + m.group(1)
                        + " is not assigned in any code block of the runbook: " + l.text());
            }
            m.appendReplacement(b, Matcher.quoteReplacement(value));
        }
        m.appendTail(b);
        return b.toString();
    }
}
