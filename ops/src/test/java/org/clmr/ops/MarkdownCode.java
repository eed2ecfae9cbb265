package org.clmr.ops;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the documentation tests read from a Markdown file: the command lines of its fenced code blocks (split into shell
 * words), its headings' anchors and its links.
 */
final class MarkdownCode {
    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*]\\(([^)\\s]+)\\)");

    private MarkdownCode() {
    }

    /** A command line of a code block and its (first) line number. */
    record Line(int number, String text) {
    }

    /** The lines of fenced code blocks, continuation lines joined, comments dropped. */
    static List<Line> lines(String text) {
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
    static List<String> words(String line) {
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

    /** GitHub's anchors of the headings outside code blocks: lower case, punctuation dropped, spaces as hyphens. */
    static Set<String> anchors(String text) {
        Set<String> out = new LinkedHashSet<>();
        for (String line : prose(text)) {
            if (line.startsWith("#")) {
                String title = line.replaceFirst("^#+\\s*", "").strip().toLowerCase(Locale.ROOT);
                out.add(title.replaceAll("[^\\p{L}\\p{N}\\s_-]", "").replace(' ', '-'));
            }
        }
        return out;
    }

    /** The targets of the inline links outside code blocks, as written. */
    static List<String> links(String text) {
        List<String> out = new ArrayList<>();
        for (String line : prose(text)) {
            Matcher m = LINK.matcher(line);
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    private static List<String> prose(String text) {
        List<String> out = new ArrayList<>();
        boolean inBlock = false;
        for (String line : text.split("\n", -1)) {
            if (line.strip().startsWith("```")) {
                inBlock = !inBlock;
            } else if (!inBlock) {
                out.add(line);
            }
        }
        return out;
    }
}
