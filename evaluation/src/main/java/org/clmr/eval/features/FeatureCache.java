package org.clmr.eval.features;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Features computed once and kept in a report directory: {@code <dir>/<name>.npy} holds the
 * [windows, dim] float32 matrix (readable by numpy), {@code <dir>/<name>.json} the key, the clip ids,
 * each clip's first window row, the tags and each clip's tag indices. A cached set is used only when its
 * key (encoder, dataset, window length) equals the one asked for. Not thread-safe.
 */
public final class FeatureCache {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;

    public FeatureCache(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** The cached set {@code name} if present, complete and computed for {@code key}. */
    public Optional<FeatureSet> load(String name, String key) throws IOException {
        Path meta = dir.resolve(name + ".json");
        Path matrix = dir.resolve(name + ".npy");
        if (!Files.isRegularFile(meta) || !Files.isRegularFile(matrix)) {
            return Optional.empty();
        }
        JsonNode root = JSON.readTree(meta.toFile());
        if (!key.equals(root.path("key").asText())) {
            return Optional.empty();
        }
        List<String> ids = strings(root.get("ids"));
        List<String> tags = strings(root.get("tags"));
        int[] starts = new int[ids.size() + 1];
        boolean[][] labels = new boolean[ids.size()][tags.size()];
        for (int c = 0; c < ids.size(); c++) {
            starts[c + 1] = root.get("window_start").get(c + 1).asInt();
            for (JsonNode t : root.get("labels").get(c)) {
                labels[c][t.asInt()] = true;
            }
        }
        Npy.Matrix m = Npy.read(matrix);
        if (m.rows() != starts[ids.size()]) {
            return Optional.empty();
        }
        return Optional.of(new FeatureSet(ids, tags, m.cols(), m.data(), starts, labels));
    }

    /** Stores {@code set} as {@code name} under {@code key} (matrix first, the json that validates it last). */
    public void store(String name, String key, FeatureSet set) throws IOException {
        Files.createDirectories(dir);
        Npy.write(dir.resolve(name + ".npy"), set.windows(), set.dim(), set.matrix());
        ObjectNode root = JSON.createObjectNode();
        root.put("key", key);
        root.put("dim", set.dim());
        root.put("windows", set.windows());
        root.set("tags", JSON.valueToTree(set.tags()));
        root.set("ids", JSON.valueToTree(set.ids()));
        ArrayNode starts = root.putArray("window_start");
        for (int c = 0; c <= set.clips(); c++) {
            starts.add(c == set.clips() ? set.windows() : set.firstWindow(c));
        }
        ArrayNode labels = root.putArray("labels");
        for (boolean[] row : set.labels()) {
            ArrayNode l = labels.addArray();
            for (int t = 0; t < row.length; t++) {
                if (row[t]) {
                    l.add(t);
                }
            }
        }
        Path tmp = dir.resolve(name + ".json.tmp");
        JSON.writeValue(tmp.toFile(), root);
        Files.move(tmp, dir.resolve(name + ".json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>(array.size());
        for (JsonNode n : array) {
            out.add(n.asText());
        }
        return out;
    }
}
