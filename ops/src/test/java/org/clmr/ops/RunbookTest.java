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

    /** A command line of a code block and where it is. */
    private record Line(int number, String text) {
    }

    @Test
    void shouldUseOnlyCommandsOptionsAndKeysThatExistInEveryRunbookCommand() throws IOException {
        String text = Files.readString(RUNBOOK);
        for (String s : SECTIONS) {
            assertTrue(text.contains("\n" + s + "\n"), "RUNBOOK.md lacks the section " + s);
        }
        List<Line> lines = codeLines(text);
        Map<String, String> variables = new HashMap<>();
        for (Line l : lines) {
            Matcher m = ASSIGNMENT.matcher(l.text());
            if (m.find() && !l.text().contains("clmr ")) {
                variables.put(m.group(1), m.group(2));
            }
        }
        Map<String, Path> configs = Map.of("/etc/clmr/clmr.conf", Path.of("systemd", "clmr.conf"));
        List<String> checked = new ArrayList<>();
        for (Line l : lines) {
            List<String> words = words(l.text());
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

    /** The lines of fenced code blocks, continuation lines joined, comments dropped. */
    private static List<Line> codeLines(String text) {
        List<Line> out = new ArrayList<>();
        boolean inBlock = false;
        StringBuilder pending = null;
        int start = 0;
        String[] all = text.split("\n", -1);
        for (int i = 0; i < all.length; i++) {
            String line = all[i];
            if (line.strip().startsWith("```")) {
                inBlock = !inBlock;
                continue;
            }
            if (!inBlock) {
                continue;
            }
            String code = stripComment(line).stripTrailing();
            if (pending == null) {
                pending = new StringBuilder();
                start = i + 1;
            }
            if (code.endsWith("\\")) {
                pending.append(code, 0, code.length() - 1).append(' ');
                continue;
            }
            pending.append(code);
            if (!pending.toString().isBlank()) {
                out.add(new Line(start, pending.toString().trim()));
            }
            pending = null;
        }
        return out;
    }

    private static String stripComment(String line) {
        boolean single = false;
        boolean dbl = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\'' && !dbl) {
                single = !single;
            } else if (c == '"' && !single) {
                dbl = !dbl;
            } else if (c == '#' && !single && !dbl && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    /** Shell words: whitespace-separated, single and double quotes removed, backslash escapes applied. */
    private static List<String> words(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder w = null;
        char quote = 0;
        boolean escaped = false;
        for (char c : line.toCharArray()) {
            if (escaped) {
                w = w == null ? new StringBuilder() : w;
                w.append(c);
                escaped = false;
            } else if (c == '\\' && quote != '\'') {
                escaped = true;
            } else if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    w.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                w = w == null ? new StringBuilder() : w;
            } else if (Character.isWhitespace(c)) {
                if (w != null) {
                    out.add(w.toString());
                    w = null;
                }
            } else {
                w = w == null ? new StringBuilder() : w;
                w.append(c);
            }
        }
        if (w != null) {
            out.add(w.toString());
        }
        return out;
    }

    private static String substitute(String word, Map<String, String> variables, Line l) {
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
