package org.clmr.eval.report;

import java.util.Map;

/**
 * What a report describes besides the numbers: which encoder, which data, and the settings that
 * produced it (written into report.json under {@code config}).
 *
 * @param encoder one line naming the encoder, e.g. {@code checkpoint 12 (step 3000) of run 5be1...} or {@code random (seed 0)}
 * @param dataset one line naming the dataset
 * @param config  settings and facts worth keeping (keys in snake_case; values JSON-serialisable)
 */
public record ReportContext(String encoder, String dataset, Map<String, Object> config) {
}
