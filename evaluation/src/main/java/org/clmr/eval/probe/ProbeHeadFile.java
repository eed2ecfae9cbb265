package org.clmr.eval.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.protocol.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A trained head as a self-describing JSON file, so it can be applied later to the same encoder's features
 * exactly as it was evaluated: the feature scaling it was trained behind comes with it. Layout (version 1):
 * <pre>
 *   format   "clmr-probe-head"      version  1
 *   encoder  the encoder's identity (its features are the head's input)
 *   kind     "linear" | "mlp"       inputs, hidden (0 for linear), outputs
 *   tags     [outputs] names, in output order
 *   weight_decay                    the weight decay it was trained with
 *   input    { shift: [inputs], factor: [inputs] }   the head reads (h - shift) * factor
 *   parameters { name: [values] }   linear: w [inputs*outputs], b [outputs];
 *                                   mlp: w1 [inputs*hidden], b1 [hidden], w2 [hidden*outputs], b2 [outputs];
 *                                   weights input-major: w[i * width + o] (torch's Linear.weight transposed)
 * </pre>
 * Doubles are written in Java's shortest round-trip form, so a head read back predicts bit for bit as the
 * one written. Stateless; any thread.
 */
public final class ProbeHeadFile {
    /** The {@code format} field's value. */
    public static final String FORMAT = "clmr-probe-head";
    private static final int VERSION = 1;

    private ProbeHeadFile() {
    }

    /**
     * A head read from a file.
     *
     * @param head        the head, behind its scaler
     * @param tags        output names
     * @param encoder     identity of the encoder whose features it reads
     * @param weightDecay its weight decay
     */
    public record Stored(ProbeHead head, List<String> tags, String encoder, double weightDecay) {
    }

    /** Writes {@code head} (outputs named by {@code tags}) to {@code file}. */
    public static void write(Path file, ProbeHead head, List<String> tags, String encoder, double weightDecay) throws IOException {
        if (tags.size() != head.outputs()) {
            throw new IllegalArgumentException(tags.size() + " tag names for " + head.outputs() + " outputs");
        }
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        root.put("encoder", encoder);
        root.put("kind", head.kind().name().toLowerCase(Locale.ROOT));
        root.put("inputs", head.inputs());
        root.put("hidden", head.hidden());
        root.put("outputs", head.outputs());
        root.set("tags", mapper.valueToTree(tags));
        root.put("weight_decay", weightDecay);
        ObjectNode input = root.putObject("input");
        array(input.putArray("shift"), head.scaler().shifts());
        array(input.putArray("factor"), head.scaler().factors());
        ObjectNode params = root.putObject("parameters");
        double[][] values = head.parameterValues();
        List<String> names = names(head.kind());
        for (int p = 0; p < values.length; p++) {
            array(params.putArray(names.get(p)), values[p]);
        }
        mapper.enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
    }

    /**
     * Reads a head written by {@link #write}.
     *
     * @throws UserError naming the file when it is not such a head or is inconsistent
     */
    public static Stored read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UserError("cannot read probe head " + file + ": " + e.getMessage());
        }
        if (root == null || !FORMAT.equals(root.path("format").asText()) || root.path("version").asInt() != VERSION) {
            throw new UserError(file + " is not a " + FORMAT + " version " + VERSION + " file (format "
                    + (root == null ? "none" : root.path("format").asText("none")) + "); give a head-seed-N.json of a clmr evaluate report");
        }
        try {
            ProbeHead.Kind kind = ProbeHead.Kind.parse(root.path("kind").asText());
            int in = root.path("inputs").asInt();
            int hidden = root.path("hidden").asInt();
            int out = root.path("outputs").asInt();
            List<String> tags = new ArrayList<>();
            root.path("tags").forEach(t -> tags.add(t.asText()));
            FeatureScaler scaler = FeatureScaler.of(doubles(root.at("/input/shift")), doubles(root.at("/input/factor")));
            List<String> names = names(kind);
            double[][] params = new double[names.size()][];
            for (int p = 0; p < params.length; p++) {
                params[p] = doubles(root.path("parameters").path(names.get(p)));
            }
            if (tags.size() != out) {
                throw new IllegalArgumentException(tags.size() + " tags for " + out + " outputs");
            }
            return new Stored(ProbeHead.of(kind, in, hidden, out, scaler, params), List.copyOf(tags), root.path("encoder").asText(),
                    root.path("weight_decay").asDouble());
        } catch (IllegalArgumentException e) {
            throw new UserError("probe head " + file + " is inconsistent: " + e.getMessage() + "; write it again with clmr evaluate");
        }
    }

    private static List<String> names(ProbeHead.Kind kind) {
        return kind == ProbeHead.Kind.LINEAR ? List.of("w", "b") : List.of("w1", "b1", "w2", "b2");
    }

    private static void array(ArrayNode node, double[] values) {
        for (double v : values) {
            node.add(v);
        }
    }

    private static double[] doubles(JsonNode node) {
        if (!node.isArray()) {
            throw new IllegalArgumentException("expected an array of numbers, got " + node.getNodeType());
        }
        double[] out = new double[node.size()];
        for (int i = 0; i < out.length; i++) {
            if (!node.get(i).isNumber()) {
                throw new IllegalArgumentException("value " + i + " is not a number: " + node.get(i));
            }
            out[i] = node.get(i).doubleValue();
        }
        return out;
    }
}
