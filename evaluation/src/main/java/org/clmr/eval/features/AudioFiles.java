package org.clmr.eval.features;

import org.clmr.data.prepare.InputFormat;
import org.clmr.protocol.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The audio files named by {@code clmr embed --input}: files as given (whatever their extension: ffmpeg decides),
 * and every file below a folder, in path order, those with an audio extension ({@link InputFormat#AUDIO_EXTENSIONS})
 * to decode and the others listed as skipped. Stateless.
 */
public final class AudioFiles {
    private AudioFiles() {
    }

    /**
     * One file to embed.
     *
     * @param file where it is
     * @param id   what the embedding is called: the path below the folder it was found in, or the file as given
     */
    public record Source(Path file, String id) {
    }

    /** A file that has no embedding, and why. */
    public record Skipped(String file, String reason) {
    }

    /**
     * What {@code inputs} name.
     *
     * @param sources the files to decode, in order
     * @param skipped files below the folders that are not audio
     */
    public record Listing(List<Source> sources, List<Skipped> skipped) {
    }

    /**
     * Lists the files of {@code inputs}.
     *
     * @throws UserError when an input does not exist or a folder cannot be read
     */
    public static Listing list(List<Path> inputs) {
        List<Source> sources = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        for (Path input : inputs) {
            if (Files.isDirectory(input)) {
                folder(input, sources, skipped);
            } else if (Files.exists(input)) {
                sources.add(new Source(input, input.toString()));
            } else {
                throw new UserError("--input " + input + " does not exist; give audio files, folders of them, or a"
                        + " packed dataset");
            }
        }
        return new Listing(List.copyOf(sources), List.copyOf(skipped));
    }

    private static void folder(Path root, List<Source> sources, List<Skipped> skipped) {
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(Files::isRegularFile).sorted(Comparator.comparing(p -> slashed(root.relativize(p)))).toList();
        } catch (IOException e) {
            throw new UserError("cannot list " + root + ": " + e.getMessage());
        }
        for (Path f : files) {
            String ext = extension(f);
            if (InputFormat.AUDIO_EXTENSIONS.contains(ext)) {
                sources.add(new Source(f, slashed(root.relativize(f))));
            } else {
                skipped.add(new Skipped(f.toString(), "not an audio file (extension '" + ext + "')"));
            }
        }
    }

    private static String slashed(Path p) {
        return p.toString().replace('\\', '/');
    }

    private static String extension(Path f) {
        String name = f.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
