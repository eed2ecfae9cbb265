package org.clmr.eval.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.features.Npy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The committed fixture of src/test/scripts/make_fair_probe_fixture.py: the same clips as a well-scaled and a
 * badly scaled feature set, and scikit-learn's reference numbers for each.
 */
final class FairProbeFixture {
    static final JsonNode ROOT = json();

    /**
     * One feature set's splits and its reference.
     *
     * @param train     training split
     * @param valid     validation split
     * @param test      test split
     * @param reference scikit-learn's numbers ({@code per_weight_decay}, {@code chosen_weight_decay}, {@code test_tag_roc_auc})
     * @param constant  the columns that are constant by construction
     */
    record Set(FeatureSet train, FeatureSet valid, FeatureSet test, JsonNode reference, List<Integer> constant) {
    }

    private FairProbeFixture() {
    }

    /** {@code well} or {@code bad}. */
    static Set load(String name) {
        JsonNode set = ROOT.at("/sets/" + name);
        Npy.Matrix m;
        try {
            m = Npy.read(Path.of(FairProbeFixture.class.getResource("/probe/fair/" + set.get("file").asText()).toURI()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        int windowsPerClip = ROOT.get("windows_per_clip").asInt();
        List<String> tags = new ArrayList<>();
        ROOT.get("tags").forEach(t -> tags.add(t.asText()));
        FeatureSet[] splits = new FeatureSet[3];
        int row = 0;
        String[] names = {"train", "valid", "test"};
        for (int s = 0; s < 3; s++) {
            JsonNode labels = ROOT.at("/splits/" + names[s] + "/labels");
            int clips = labels.size();
            float[] x = new float[clips * windowsPerClip * m.cols()];
            System.arraycopy(m.data(), row * m.cols(), x, 0, x.length);
            row += clips * windowsPerClip;
            int[] starts = new int[clips + 1];
            boolean[][] y = new boolean[clips][tags.size()];
            List<String> ids = new ArrayList<>();
            for (int c = 0; c < clips; c++) {
                starts[c + 1] = starts[c] + windowsPerClip;
                ids.add(names[s] + c);
                for (int t = 0; t < tags.size(); t++) {
                    y[c][t] = labels.get(c).get(t).asInt() == 1;
                }
            }
            splits[s] = new FeatureSet(ids, tags, m.cols(), x, starts, y);
        }
        if (row != m.rows()) {
            throw new IllegalStateException("fixture " + name + " has " + m.rows() + " rows, the splits " + row);
        }
        List<Integer> constant = new ArrayList<>();
        set.get("constant_columns").forEach(c -> constant.add(c.asInt()));
        return new Set(splits[0], splits[1], splits[2], set.get("reference"), constant);
    }

    /** The grid the reference used. */
    static List<Double> grid() {
        List<Double> grid = new ArrayList<>();
        ROOT.get("grid").forEach(v -> grid.add(v.asDouble()));
        return grid;
    }

    private static JsonNode json() {
        try (InputStream in = FairProbeFixture.class.getResourceAsStream("/probe/fair/fixture.json")) {
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
