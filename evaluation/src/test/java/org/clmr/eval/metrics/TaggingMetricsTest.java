package org.clmr.eval.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Agreement with scikit-learn on the fixtures of src/test/scripts/make_metric_fixtures.py. */
class TaggingMetricsTest {
    private static final double TOLERANCE = 1e-9;

    static JsonNode cases() throws IOException {
        try (InputStream in = TaggingMetricsTest.class.getResourceAsStream("/metrics/cases.json")) {
            return new ObjectMapper().readTree(in).get("cases");
        }
    }

    @Test
    void shouldAgreeWithScikitLearnOnEveryFixtureCase() throws IOException {
        int checked = 0;
        for (JsonNode c : cases()) {
            String name = c.get("name").asText();
            JsonNode labelRows = c.get("labels");
            JsonNode scoreRows = c.get("scores");
            int n = labelRows.size();
            int t = labelRows.get(0).size();
            boolean[][] labels = new boolean[n][t];
            double[][] scores = new double[n][t];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < t; j++) {
                    labels[i][j] = labelRows.get(i).get(j).asInt() == 1;
                    scores[i][j] = scoreRows.get(i).get(j).asDouble();
                }
            }
            List<String> tags = new ArrayList<>();
            for (int j = 0; j < t; j++) {
                tags.add("t" + j);
            }
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ids.add("c" + i);
            }
            TaggingMetrics m = TaggingMetrics.compute(labels, scores, tags, ids);
            checked += assertValues(name + " tag_roc", c.get("tag_roc"), m.tagRocAuc());
            checked += assertValues(name + " tag_ap", c.get("tag_ap"), m.tagPrAuc());
            checked += assertValues(name + " clip_roc", c.get("clip_roc"), m.clipRocAuc());
            checked += assertValues(name + " clip_ap", c.get("clip_ap"), m.clipPrAuc());
            assertMean(name + " tag_roc_auc", c.get("tag_roc_auc"), m.tagRocAucMean());
            assertMean(name + " tag_pr_auc", c.get("tag_pr_auc"), m.tagPrAucMean());
            assertMean(name + " clip_roc_auc", c.get("clip_roc_auc"), m.clipRocAucMean());
            assertMean(name + " clip_pr_auc", c.get("clip_pr_auc"), m.clipPrAucMean());
        }
        assertTrue(checked > 1000, "only " + checked + " values checked");
    }

    @Test
    void shouldListUndefinedTagsAndClipsAndLeaveThemOutOfTheMeans() {
        boolean[][] labels = {{true, false, true}, {true, true, false}, {true, false, false}};
        double[][] scores = {{0.9, 0.2, 0.4}, {0.8, 0.7, 0.1}, {0.1, 0.3, 0.6}};
        TaggingMetrics m = TaggingMetrics.compute(labels, scores, List.of("all", "b", "c"), List.of("x", "y", "z"));
        assertEquals(List.of("all"), m.excludedTagsRoc());
        assertEquals(List.of(), m.excludedTagsPr());
        assertEquals(1.0, m.tagPrAuc()[0], 0.0, "all positive gives AP 1.0");
        assertEquals((m.tagRocAuc()[1] + m.tagRocAuc()[2]) / 2, m.tagRocAucMean(), 1e-15);
        assertEquals(List.of(), m.excludedClipsRoc());
    }

    @Test
    void shouldGiveOneForAPerfectRankingAndHalfForAllTies() {
        boolean[] y = {true, false, true, false};
        assertEquals(1.0, BinaryMetrics.rocAuc(y, new double[] {0.9, 0.1, 0.8, 0.2}), 0.0);
        assertEquals(1.0, BinaryMetrics.averagePrecision(y, new double[] {0.9, 0.1, 0.8, 0.2}), 0.0);
        assertEquals(0.5, BinaryMetrics.rocAuc(y, new double[] {0.5, 0.5, 0.5, 0.5}), 0.0);
        assertEquals(0.5, BinaryMetrics.averagePrecision(y, new double[] {0.5, 0.5, 0.5, 0.5}), 0.0);
        assertTrue(Double.isNaN(BinaryMetrics.averagePrecision(new boolean[] {false, false}, new double[] {0.1, 0.2})));
        assertTrue(Double.isNaN(BinaryMetrics.rocAuc(new boolean[] {true, true}, new double[] {0.1, 0.2})));
    }

    private static int assertValues(String what, JsonNode expected, double[] actual) {
        assertEquals(expected.size(), actual.length, what);
        for (int i = 0; i < actual.length; i++) {
            assertMean(what + "[" + i + "]", expected.get(i), actual[i]);
        }
        return actual.length;
    }

    private static void assertMean(String what, JsonNode expected, double actual) {
        if (expected.isNull()) {
            assertTrue(Double.isNaN(actual), what + ": expected undefined, got " + actual);
        } else {
            assertEquals(expected.asDouble(), actual, TOLERANCE, what);
        }
    }
}
