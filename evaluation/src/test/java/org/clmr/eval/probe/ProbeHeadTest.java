package org.clmr.eval.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Losses and Adam updates agree with torch (fixture of src/test/scripts/make_probe_fixtures.py). */
class ProbeHeadTest {

    @Test
    void shouldMatchTorchBceAndAdamWithWeightDecayStepByStep() throws IOException {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/probe/steps.json")) {
            root = new ObjectMapper().readTree(in);
        }
        for (JsonNode c : root.get("cases")) {
            ProbeHead.Kind kind = ProbeHead.Kind.parse(c.get("kind").asText());
            int in = c.get("in").asInt();
            int out = c.get("out").asInt();
            JsonNode x = c.get("features");
            int n = x.size();
            float[] features = new float[n * in];
            boolean[][] targets = new boolean[n][out];
            int[] rows = new int[n];
            for (int r = 0; r < n; r++) {
                rows[r] = r;
                for (int i = 0; i < in; i++) {
                    features[r * in + i] = (float) x.get(r).get(i).asDouble();
                }
                for (int o = 0; o < out; o++) {
                    targets[r][o] = c.get("targets").get(r).get(o).asInt() == 1;
                }
            }
            ProbeHead head = ProbeHead.of(kind, in, c.get("hidden").asInt(), out, arrays(c.get("initial")));
            Adam adam = Adam.forHead(head, c.get("lr").asDouble(), c.get("weight_decay").asDouble());
            for (int step = 0; step < c.get("losses").size(); step++) {
                double loss = head.lossAndGradient(features, rows, targets);
                adam.step(head);
                assertEquals(c.get("losses").get(step).asDouble(), loss, 1e-12, kind + " loss at step " + step);
                double[][] want = arrays(c.get("params").get(step));
                double[][] got = head.parameterValues();
                for (int p = 0; p < want.length; p++) {
                    for (int k = 0; k < want[p].length; k++) {
                        assertEquals(want[p][k], got[p][k], 1e-10, kind + " param " + p + "[" + k + "] after step " + step);
                    }
                }
            }
        }
    }

    private static double[][] arrays(JsonNode node) {
        double[][] out = new double[node.size()][];
        for (int p = 0; p < node.size(); p++) {
            out[p] = new double[node.get(p).size()];
            for (int k = 0; k < out[p].length; k++) {
                out[p][k] = node.get(p).get(k).asDouble();
            }
        }
        return out;
    }
}
