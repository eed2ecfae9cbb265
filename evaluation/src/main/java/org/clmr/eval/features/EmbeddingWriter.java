package org.clmr.eval.features;

import org.clmr.protocol.UserError;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes one embedding per clip (its windows' features averaged) with the clip ids: {@code FILE.npy}
 * (float32 [clips, dim], see {@link Npy}) plus {@code FILE.ids.txt} (one id per line, row order), or
 * {@code FILE.csv} (header {@code track_id,h0,...,h<dim-1>}).
 */
public final class EmbeddingWriter {
    private EmbeddingWriter() {
    }

    /** The ids file written beside a {@code .npy}. */
    public static Path idsFileFor(Path npy) {
        String name = npy.getFileName().toString();
        return npy.resolveSibling(name.substring(0, name.length() - ".npy".length()) + ".ids.txt");
    }

    /** Writes the mean embedding of every clip of {@code set}; returns the files written. */
    public static List<Path> write(Path out, FeatureSet set) throws IOException {
        String name = out.getFileName().toString().toLowerCase(Locale.ROOT);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        int dim = set.dim();
        float[] matrix = new float[set.clips() * dim];
        for (int c = 0; c < set.clips(); c++) {
            System.arraycopy(set.meanFeature(c), 0, matrix, c * dim, dim);
        }
        if (name.endsWith(".npy")) {
            Npy.write(out, set.clips(), dim, matrix);
            Path ids = idsFileFor(out);
            Files.write(ids, set.ids(), StandardCharsets.UTF_8);
            return List.of(out, ids);
        }
        if (name.endsWith(".csv")) {
            try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
                w.write("track_id");
                for (int k = 0; k < dim; k++) {
                    w.write(",h" + k);
                }
                w.write('\n');
                for (int c = 0; c < set.clips(); c++) {
                    String id = set.ids().get(c);
                    w.write(id.contains(",") || id.contains("\"") ? "\"" + id.replace("\"", "\"\"") + "\"" : id);
                    for (int k = 0; k < dim; k++) {
                        w.write(',');
                        w.write(Float.toString(matrix[c * dim + k]));
                    }
                    w.write('\n');
                }
            }
            return List.of(out);
        }
        throw new UserError("--out " + out + ": unknown format; give a file name ending in .npy (with a .ids.txt beside it) or .csv");
    }
}
