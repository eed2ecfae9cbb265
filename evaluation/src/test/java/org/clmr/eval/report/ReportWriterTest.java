package org.clmr.eval.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.metrics.ClipTable;
import org.clmr.eval.metrics.TaggingMetrics;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.probe.ProbeHead;
import org.clmr.eval.probe.ProbeSpec;
import org.clmr.eval.probe.SyntheticFeaturesAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class ReportWriterTest {
    @TempDir
    Path tmp;

    @Test
    void shouldWriteACompleteReportWhoseScoresRescoreToItsNumbers() throws Exception {
        // Set -Dclmr.eval.test.report-dir=DIR to keep the report for a look at the plots.
        String keep = System.getProperty("clmr.eval.test.report-dir");
        Path dir = keep != null ? Path.of(keep) : tmp.resolve("report");
        FeatureSet train = SyntheticFeaturesAccess.make(200, 12, 24, 2, 5, 1);
        FeatureSet valid = SyntheticFeaturesAccess.make(60, 12, 24, 2, 5, 2);
        FeatureSet test = SyntheticFeaturesAccess.make(80, 12, 24, 3, 5, 3);
        ProbeSpec spec = ProbeSpec.paperProtocol(ProbeHead.Kind.LINEAR, 16, 1e-2, 1e-6, 32, 30, 5);
        ProbeEvaluation.Result result = ProbeEvaluation.run(train, valid, test, spec, 0.5, 2, 0, new ProbeEvaluation.Listener() {
            @Override
            public void onRunStart(int index, int total, long seed, int trainClips) {
            }

            @Override
            public void onEpoch(org.clmr.eval.probe.EpochRecord record) {
            }
        });
        ReportWriter.write(dir, result, new ReportContext("random (seed 0)", "synthetic 24 tags", Map.of("feature_dim", 12)), test.labels());

        JsonNode json = new ObjectMapper().readTree(dir.resolve(ReportWriter.JSON).toFile());
        assertEquals(result.tagRocAuc().mean(), json.at("/summary/tag_roc_auc/mean").asDouble(), 0.0);
        assertEquals(24, json.get("per_tag").size());
        assertEquals(2, json.get("runs").size());
        assertEquals(0.5, json.at("/config/label_fraction").asDouble());
        assertEquals(12, json.at("/config/feature_dim").asInt());
        for (JsonNode run : json.get("runs")) {
            assertEquals(80, run.get("per_clip").size());
            assertTrue(run.get("validation_curve").size() >= 1);
            assertTrue(run.get("train_clips").asInt() >= 100 && run.get("train_clips").asInt() < 200, run.get("train_clips").toString());
            ClipTable labels = ClipTable.read(dir.resolve(ReportWriter.TEST_LABELS));
            ClipTable scores = ClipTable.read(dir.resolve(run.get("test_scores").asText()));
            TaggingMetrics again = TaggingMetrics.compute(labels.asLabels(), scores.alignedTo(labels), labels.tags(), labels.ids());
            assertEquals(run.get("tag_roc_auc").asDouble(), again.tagRocAucMean(), 1e-12);
            assertEquals(run.get("clip_pr_auc").asDouble(), again.clipPrAucMean(), 1e-12);
        }

        String md = Files.readString(dir.resolve(ReportWriter.MARKDOWN));
        assertTrue(md.contains("| random (seed 0) | linear | 50% | "), md);
        assertTrue(md.contains(String.format(java.util.Locale.ROOT, "%.4f ± %.4f", result.tagRocAuc().mean(), result.tagRocAuc().std())), md);
        assertTrue(md.contains("| tag0 |"), md);
        for (String png : new String[] {ReportWriter.TAG_PLOT, ReportWriter.CURVE_PLOT}) {
            BufferedImage image = ImageIO.read(dir.resolve(png).toFile());
            assertNotNull(image, png);
            assertTrue(image.getWidth() >= 800 && image.getHeight() >= 500, png);
        }
    }

    @Test
    void shouldStateTheProbesGridChoiceAndConstantDimensionsAndWriteHeadsThatReproduceTheScores() throws Exception {
        int[] scale = {-12, 0, 7, 3, 0, -4, 15, 1, 0, 2, -1, 5};
        java.util.List<Integer> constant = java.util.List.of(1, 4, 13);
        FeatureSet train = SyntheticFeaturesAccess.rescaled(SyntheticFeaturesAccess.make(200, 12, 6, 2, 5, 1), scale, constant);
        FeatureSet valid = SyntheticFeaturesAccess.rescaled(SyntheticFeaturesAccess.make(60, 12, 6, 2, 5, 2), scale, constant);
        FeatureSet test = SyntheticFeaturesAccess.rescaled(SyntheticFeaturesAccess.make(80, 12, 6, 3, 5, 3), scale, constant);
        ProbeSpec spec = org.clmr.eval.EvalSettings.from(org.clmr.protocol.config.ClmrConfig.defaults()).probe();
        ProbeEvaluation.Result result = ProbeEvaluation.run(train, valid, test, spec, 1.0, 2, 0, new ProbeEvaluation.Listener() {
            @Override
            public void onRunStart(int index, int total, long seed, int trainClips) {
            }

            @Override
            public void onEpoch(org.clmr.eval.probe.EpochRecord record) {
            }
        });
        Path dir = tmp.resolve("fair");
        ReportWriter.write(dir, result, new ReportContext("random (seed 0)", "synthetic 6 tags", Map.of("encoder_identity", "random:x")),
                test.labels());

        JsonNode json = new ObjectMapper().readTree(dir.resolve(ReportWriter.JSON).toFile());
        assertEquals(3, json.at("/features/constant_dimensions/count").asInt());
        assertEquals(3.0 / 15, json.at("/features/constant_dimensions/share").asDouble(), 1e-15);
        assertEquals("[1,4,13]", json.at("/features/constant_dimensions/indices").toString());
        assertTrue(json.at("/config/standardise").asBoolean());
        assertEquals(6, json.at("/config/weight_decay_grid").size());
        for (JsonNode run : json.get("runs")) {
            assertEquals(6, run.get("weight_decay_grid").size());
            int chosen = 0;
            for (JsonNode point : run.get("weight_decay_grid")) {
                if (point.get("chosen").asBoolean()) {
                    chosen++;
                    assertEquals(run.get("weight_decay").asDouble(), point.get("weight_decay").asDouble(), 0.0);
                }
            }
            assertEquals(1, chosen);
            org.clmr.eval.probe.ProbeHeadFile.Stored head = org.clmr.eval.probe.ProbeHeadFile.read(dir.resolve(run.get("head").asText()));
            assertEquals("random:x", head.encoder());
            ClipTable scores = ClipTable.read(dir.resolve(run.get("test_scores").asText()));
            double[][] again = org.clmr.eval.probe.ProbeTrainer.clipScores(head.head(), test);
            double[][] written = scores.alignedTo(ClipTable.read(dir.resolve(ReportWriter.TEST_LABELS)));
            for (int c = 0; c < again.length; c++) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(written[c], again[c], 0.0, "the stored head, applied to raw features later");
            }
        }
        assertTrue(json.at("/config/seeds_note").asText().contains("fitted once"));
        String md = Files.readString(dir.resolve(ReportWriter.MARKDOWN));
        assertTrue(md.contains("- features: 15 dimensions, 3 constant on the training split (20.0%)"), md);
        assertTrue(md.contains("weight decay chosen on validation tag-wise ROC-AUC from [1e-6, 1e-5, 1e-4, 0.001, 0.01, 0.1]"), md);
        assertTrue(md.contains("## Weight decay, chosen on the validation split"), md);
        assertTrue(ImageIO.read(dir.resolve(ReportWriter.CURVE_PLOT).toFile()).getWidth() >= 800);
    }
}
