package org.clmr.data.prepare;

import org.clmr.protocol.Sha256;

import org.clmr.data.dataset.Skipped;
import org.clmr.data.dataset.Split;
import org.clmr.protocol.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The input formats of {@code clmr prepare}:
 * <ul>
 * <li>{@code folder}: every file below PATH (sorted by relative path; the id is the relative path); no
 *     tags; all train (pre-training material). Files without an audio extension are listed as skipped.</li>
 * <li>{@code csv}: a CSV file (comma- or tab-separated, detected from the header) with a path column
 *     ({@code path}, {@code file}, {@code filename}, {@code audio} or {@code mp3_path}; relative paths are
 *     resolved against the CSV's folder), an optional {@code id} column, an optional {@code split}
 *     column (train/valid/test), and one 0/1 column per tag (the header names the tags). Without a split
 *     column a track's split follows from the SHA-256 of its id: 80% train, 10% valid, 10% test.</li>
 * <li>{@code mtat}: MagnaTagATune as distributed: PATH is the folder holding
 *     {@code annotations_final.csv} (tab-separated, quoted; clip_id, 188 tag columns, mp3_path) and the
 *     mp3 folders 0-f (directly or under {@code mp3/}), or the CSV itself. Tags: the standard top 50, in
 *     the standard order. Split by folder: 0-b train, c valid, d-f test. Song id: the file name without
 *     its last two {@code -start-end} fields. Tracks are stored ordered by song, then clip start, so a
 *     song's clips lie back to back (the song-concatenated pre-training view needs that).</li>
 * </ul>
 */
public enum InputFormat {
    FOLDER, CSV, MTAT;

    /** Extensions (lower case) the folder format treats as audio. */
    public static final Set<String> AUDIO_EXTENSIONS = Set.of("wav", "mp3", "flac", "ogg", "oga", "opus", "m4a",
            "aac", "aif", "aiff", "wma", "au", "mp2", "ape", "wv", "webm", "mka");

    private static final List<String> PATH_COLUMNS = List.of("path", "file", "filename", "audio", "mp3_path");

    /** Parses {@code folder}, {@code csv} or {@code mtat}. */
    public static InputFormat parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("unknown --format " + s + "; expected folder, csv or mtat");
        }
    }

    /** Lists the input at {@code path}. */
    public Listing list(Path path) {
        switch (this) {
            case FOLDER: return folder(path);
            case CSV: return csv(path);
            default: return mtat(path);
        }
    }

    private static Listing folder(Path root) {
        if (!Files.isDirectory(root)) {
            throw new UserError("--input " + root + " is not a folder; --format folder packs every audio file below a folder");
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(Files::isRegularFile).sorted(Comparator.comparing(p -> slashed(root.relativize(p))))
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UserError("cannot list " + root + ": " + e.getMessage());
        }
        List<SourceTrack> tracks = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        for (Path f : files) {
            String rel = slashed(root.relativize(f));
            String ext = extension(f);
            if (AUDIO_EXTENSIONS.contains(ext)) {
                tracks.add(new SourceTrack(f, rel, new int[0], Split.TRAIN, null));
            } else {
                skipped.add(new Skipped(f.toString(), "not an audio file (extension '" + ext + "')"));
            }
        }
        return new Listing(List.of(), tracks, skipped);
    }

    private static Listing csv(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UserError("--input " + file + " is not a file; --format csv needs a CSV file with a path column");
        }
        List<String> lines = readLines(file);
        if (lines.isEmpty()) {
            throw new UserError(file + " is empty; --format csv needs a header with a path column and one column per tag");
        }
        char sep = lines.get(0).indexOf('\t') >= 0 ? '\t' : ',';
        List<String> header = Csv.split(lines.get(0), sep);
        int pathCol = -1;
        int idCol = -1;
        int splitCol = -1;
        List<Integer> tagCols = new ArrayList<>();
        List<String> tags = new ArrayList<>();
        for (int c = 0; c < header.size(); c++) {
            String h = header.get(c).trim();
            String lower = h.toLowerCase(Locale.ROOT);
            if (pathCol < 0 && PATH_COLUMNS.contains(lower)) {
                pathCol = c;
            } else if (idCol < 0 && lower.equals("id")) {
                idCol = c;
            } else if (splitCol < 0 && lower.equals("split")) {
                splitCol = c;
            } else {
                tagCols.add(c);
                tags.add(h);
            }
        }
        if (pathCol < 0) {
            throw new UserError(file + ": no path column in the header " + header + "; name it one of " + PATH_COLUMNS);
        }
        Path base = file.toAbsolutePath().getParent();
        List<SourceTrack> tracks = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int ln = 1; ln < lines.size(); ln++) {
            if (lines.get(ln).isBlank()) {
                continue;
            }
            String where = file + " line " + (ln + 1);
            List<String> row = Csv.split(lines.get(ln), sep);
            if (row.size() != header.size()) {
                skipped.add(new Skipped(where, row.size() + " fields but the header has " + header.size()));
                continue;
            }
            Path audio = base.resolve(row.get(pathCol).trim());
            String id = idCol >= 0 ? row.get(idCol).trim() : row.get(pathCol).trim();
            String problem = null;
            int[] tagIdx = new int[tagCols.size()];
            int nTags = 0;
            for (int t = 0; t < tagCols.size() && problem == null; t++) {
                String v = row.get(tagCols.get(t)).trim();
                if (v.equals("1")) {
                    tagIdx[nTags++] = t;
                } else if (!v.equals("0") && !v.isEmpty()) {
                    problem = "tag column '" + tags.get(t) + "' is '" + v + "', expected 0 or 1";
                }
            }
            Split split = splitCol >= 0 ? Split.parse(row.get(splitCol)) : hashSplit(id);
            if (problem == null && split == null) {
                problem = "split is '" + row.get(splitCol) + "', expected train, valid or test";
            }
            if (problem == null && !ids.add(id)) {
                problem = "duplicate id " + id;
            }
            if (problem == null && !Files.isRegularFile(audio)) {
                problem = "no such file " + audio;
            }
            if (problem != null) {
                skipped.add(new Skipped(where, problem));
            } else {
                tracks.add(new SourceTrack(audio, id, java.util.Arrays.copyOf(tagIdx, nTags), split, null));
            }
        }
        return new Listing(tags, tracks, skipped);
    }

    private static Listing mtat(Path path) {
        Path csvFile = Files.isDirectory(path) ? path.resolve("annotations_final.csv") : path;
        if (!Files.isRegularFile(csvFile)) {
            throw new UserError("no MagnaTagATune annotations at " + csvFile
                    + "; --input must be the folder holding annotations_final.csv and the mp3 folders 0-f");
        }
        Path dir = csvFile.toAbsolutePath().getParent();
        Path mp3Root = Files.isDirectory(dir.resolve("mp3")) && !Files.isDirectory(dir.resolve("0")) ? dir.resolve("mp3") : dir;
        List<String> lines = readLines(csvFile);
        if (lines.isEmpty()) {
            throw new UserError(csvFile + " is empty; expected MagnaTagATune's annotations_final.csv");
        }
        List<String> header = Csv.split(lines.get(0), '\t');
        Map<String, Integer> col = new HashMap<>();
        for (int c = 0; c < header.size(); c++) {
            col.putIfAbsent(header.get(c).trim(), c);
        }
        List<String> top50 = topTags();
        List<String> missing = new ArrayList<>();
        for (String needed : concat(List.of("clip_id", "mp3_path"), top50)) {
            if (!col.containsKey(needed)) {
                missing.add(needed);
            }
        }
        if (!missing.isEmpty()) {
            throw new UserError(csvFile + " lacks the columns " + missing + "; expected MagnaTagATune's tab-separated "
                    + "annotations_final.csv (clip_id, 188 tags, mp3_path)");
        }
        List<MtatRow> rows = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        for (int ln = 1; ln < lines.size(); ln++) {
            if (lines.get(ln).isBlank()) {
                continue;
            }
            List<String> row = Csv.split(lines.get(ln), '\t');
            String where = csvFile + " line " + (ln + 1);
            if (row.size() != header.size()) {
                skipped.add(new Skipped(where, row.size() + " fields but the header has " + header.size()));
                continue;
            }
            String clip = row.get(col.get("clip_id")).trim();
            String rel = row.get(col.get("mp3_path")).trim();
            Path audio = mp3Root.resolve(rel);
            Split split = rel.isEmpty() ? null : folderSplit(rel.charAt(0));
            if (split == null) {
                skipped.add(new Skipped(where, "mp3_path '" + rel + "' is not in a folder 0-f"));
                continue;
            }
            if (!Files.isRegularFile(audio)) {
                skipped.add(new Skipped(audio.toString(), "no such file (clip " + clip + ")"));
                continue;
            }
            int[] tagIdx = new int[top50.size()];
            int n = 0;
            for (int t = 0; t < top50.size(); t++) {
                if (row.get(col.get(top50.get(t))).trim().equals("1")) {
                    tagIdx[n++] = t;
                }
            }
            String[] song = songAndStart(audio.getFileName().toString());
            rows.add(new MtatRow(new SourceTrack(audio, clip, java.util.Arrays.copyOf(tagIdx, n), split, song[0]),
                    parseLong(song[1])));
        }
        rows.sort(Comparator.comparing((MtatRow r) -> r.track().song()).thenComparingLong(MtatRow::start)
                .thenComparing(r -> r.track().id()));
        List<SourceTrack> tracks = new ArrayList<>();
        rows.forEach(r -> tracks.add(r.track()));
        return new Listing(top50, tracks, skipped);
    }

    private record MtatRow(SourceTrack track, long start) {
    }

    /** MagnaTagATune's standard top-50 tags in the standard order (a resource of this module). */
    public static List<String> topTags() {
        try (InputStream in = InputFormat.class.getResourceAsStream("mtat-top50-tags.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.lines().map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toList());
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("mtat-top50-tags.txt missing from the class path", e);
        }
    }

    /** The song id and clip start of an MTAT file name: {@code a-b-c-0-29.mp3} gives {@code a-b-c}, {@code 0}. */
    static String[] songAndStart(String fileName) {
        String stem = fileName.endsWith(".mp3") ? fileName.substring(0, fileName.length() - 4) : fileName;
        int last = stem.lastIndexOf('-');
        int second = last > 0 ? stem.lastIndexOf('-', last - 1) : -1;
        if (second <= 0) {
            return new String[] {stem, "0"};
        }
        return new String[] {stem.substring(0, second), stem.substring(second + 1, last)};
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static Split folderSplit(char folder) {
        char c = Character.toLowerCase(folder);
        if (c >= '0' && c <= '9' || c == 'a' || c == 'b') {
            return Split.TRAIN;
        }
        return c == 'c' ? Split.VALID : c >= 'd' && c <= 'f' ? Split.TEST : null;
    }

    /** 80/10/10 from the first byte of SHA-256(id): stable, independent of order and machine. */
    static Split hashSplit(String id) {
        byte[] id8 = id.getBytes(StandardCharsets.UTF_8);
        int bucket = (Sha256.digest(id8, 0, id8.length)[0] & 0xFF) % 10;
        return bucket < 8 ? Split.TRAIN : bucket == 8 ? Split.VALID : Split.TEST;
    }

    private static List<String> readLines(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            if (text.startsWith("\uFEFF")) {
                text = text.substring(1);
            }
            return text.lines().collect(Collectors.toList());
        } catch (IOException e) {
            throw new UserError("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static String slashed(Path rel) {
        return rel.toString().replace('\\', '/');
    }

    private static String extension(Path f) {
        String n = f.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
