package org.clmr.eval.metrics;

import org.clmr.protocol.UserError;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A CSV table of one number per clip and tag: a header row (first cell any name for the id column,
 * then the tag names), then one row per clip (its id, then one value per tag). Fields may be quoted
 * with {@code "} as in RFC 4180. Used for labels (0/1) and scores of {@code clmr metrics}.
 *
 * @param source where it was read from, for messages
 * @param tags   tag names in column order
 * @param ids    clip ids in row order
 * @param values [clips][tags]
 */
public record ClipTable(String source, List<String> tags, List<String> ids, double[][] values) {

    /** Reads a table; every malformed input is a one-line {@link UserError} naming file and line. */
    public static ClipTable read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file; give a CSV with a header `clip_id,tag1,tag2,...`");
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage());
        }
        return parse(file.toString(), lines);
    }

    /** Parses the lines of a table (see the type's description). */
    public static ClipTable parse(String source, List<String> lines) {
        int first = 0;
        while (first < lines.size() && lines.get(first).isBlank()) {
            first++;
        }
        if (first == lines.size()) {
            throw new UserError(source + ": empty; expected a header `clip_id,tag1,tag2,...` and one row per clip");
        }
        List<String> header = fields(source, first + 1, stripBom(lines.get(first)));
        if (header.size() < 2) {
            throw new UserError(source + ":" + (first + 1) + ": header has " + header.size()
                    + " column; expected the id column then at least one tag");
        }
        List<String> tags = List.copyOf(header.subList(1, header.size()));
        Set<String> seenTags = new LinkedHashSet<>();
        for (String tag : tags) {
            if (!seenTags.add(tag)) {
                throw new UserError(source + ":" + (first + 1) + ": tag `" + tag + "` appears twice in the header");
            }
        }
        List<String> ids = new ArrayList<>();
        List<double[]> rows = new ArrayList<>();
        Set<String> seenIds = new java.util.HashSet<>();
        for (int n = first + 1; n < lines.size(); n++) {
            if (lines.get(n).isBlank()) {
                continue;
            }
            List<String> f = fields(source, n + 1, lines.get(n));
            if (f.size() != header.size()) {
                throw new UserError(source + ":" + (n + 1) + ": " + f.size() + " columns; expected "
                        + header.size() + " (the id and " + tags.size() + " tags, as in the header)");
            }
            String id = f.get(0);
            if (!seenIds.add(id)) {
                throw new UserError(source + ":" + (n + 1) + ": clip id `" + id + "` appears twice");
            }
            double[] row = new double[tags.size()];
            for (int j = 0; j < row.length; j++) {
                String cell = f.get(j + 1).trim();
                try {
                    row[j] = Double.parseDouble(cell);
                } catch (NumberFormatException e) {
                    row[j] = Double.NaN;
                }
                if (!Double.isFinite(row[j])) {
                    throw new UserError(source + ":" + (n + 1) + ": value `" + cell + "` for tag `" + tags.get(j)
                            + "` is not a finite number");
                }
            }
            ids.add(id);
            rows.add(row);
        }
        if (ids.isEmpty()) {
            throw new UserError(source + ": has a header but no clip rows");
        }
        return new ClipTable(source, tags, List.copyOf(ids), rows.toArray(new double[0][]));
    }

    /** The values as labels: 1 is positive, 0 negative; anything else is a one-line error. */
    public boolean[][] asLabels() {
        boolean[][] out = new boolean[values.length][];
        for (int i = 0; i < values.length; i++) {
            out[i] = new boolean[tags.size()];
            for (int j = 0; j < tags.size(); j++) {
                double v = values[i][j];
                if (v != 0.0 && v != 1.0) {
                    throw new UserError(source + ": clip `" + ids.get(i) + "`, tag `" + tags.get(j) + "`: label " + v
                            + " is not 0 or 1");
                }
                out[i][j] = v == 1.0;
            }
        }
        return out;
    }

    /**
     * This table's values rearranged to the rows and columns of {@code reference}: same clip ids and
     * tags, in any order. A mismatch is one {@link UserError} line saying what differs.
     */
    public double[][] alignedTo(ClipTable reference) {
        if (!Set.copyOf(tags).equals(Set.copyOf(reference.tags))) {
            throw new UserError("tags differ: " + reference.source + " has " + reference.tags.size() + " tags, "
                    + source + " has " + tags.size() + difference("; only in ", reference.source, reference.tags, tags)
                    + difference("; only in ", source, tags, reference.tags)
                    + "; both files need the same header");
        }
        if (!Set.copyOf(ids).equals(Set.copyOf(reference.ids))) {
            throw new UserError("clip ids differ: " + reference.source + " has " + reference.ids.size() + " clips, "
                    + source + " has " + ids.size() + difference("; only in ", reference.source, reference.ids, ids)
                    + difference("; only in ", source, ids, reference.ids)
                    + "; both files need one row per clip");
        }
        Map<String, Integer> row = new HashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            row.put(ids.get(i), i);
        }
        Map<String, Integer> column = new HashMap<>();
        for (int j = 0; j < tags.size(); j++) {
            column.put(tags.get(j), j);
        }
        double[][] out = new double[reference.ids.size()][reference.tags.size()];
        for (int i = 0; i < out.length; i++) {
            double[] src = values[row.get(reference.ids.get(i))];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = src[column.get(reference.tags.get(j))];
            }
        }
        return out;
    }

    private static String difference(String prefix, String where, List<String> a, List<String> b) {
        Set<String> only = new LinkedHashSet<>(a);
        only.removeAll(Set.copyOf(b));
        if (only.isEmpty()) {
            return "";
        }
        List<String> shown = new ArrayList<>(only).subList(0, Math.min(5, only.size()));
        return prefix + where + ": " + only.size() + " (" + String.join(", ", shown) + (only.size() > 5 ? ", ..." : "") + ")";
    }

    private static String stripBom(String s) {
        return s.startsWith("\uFEFF") ? s.substring(1) : s;
    }

    /** Splits one CSV record; quoted fields may contain commas and doubled quotes. */
    static List<String> fields(String source, int lineNumber, String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cell.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cell.toString().trim());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        if (quoted) {
            throw new UserError(source + ":" + lineNumber + ": a quoted field is not closed");
        }
        out.add(cell.toString().trim());
        return out;
    }
}
