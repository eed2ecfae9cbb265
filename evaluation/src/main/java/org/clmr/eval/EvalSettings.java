package org.clmr.eval;

import com.typesafe.config.Config;
import org.clmr.eval.probe.ProbeHead;
import org.clmr.eval.probe.ProbeSpec;
import org.clmr.protocol.config.ConfigReader;

import java.util.List;

/**
 * The typed, validated {@code clmr.eval} section (evaluation's reference.conf documents every key).
 *
 * @param probe         how heads are trained
 * @param seeds         how many heads, with seeds {@code seed, seed + 1, ...}
 * @param seed          the first head's seed
 * @param labelFraction fraction of labelled training clips, in (0, 1]
 * @param featureBatch  windows per encoder forward pass
 */
public record EvalSettings(ProbeSpec probe, int seeds, long seed, double labelFraction, int featureBatch) {

    /** Reads and range-checks {@code clmr.eval}; a bad value is a SettingsException naming the key. */
    public static EvalSettings from(Config config) {
        ConfigReader r = new ConfigReader(config, "").at("clmr.eval");
        ProbeSpec probe = new ProbeSpec(
                ProbeHead.Kind.parse(r.getEnum("head", List.of("linear", "mlp"))),
                r.getInt("hidden", 1, 65536),
                r.getDouble("learning-rate", 1e-9, 10),
                r.getDouble("weight-decay", 0, 1),
                r.getInt("batch-size", 1, 1 << 20),
                r.getInt("max-epochs", 1, 100_000),
                r.getInt("patience", 1, 100_000));
        double fraction = r.getDouble("label-fraction", 0, 1);
        if (fraction == 0) {
            throw new org.clmr.protocol.config.SettingsException(r.key("label-fraction"), fraction, "must be in (0, 1]");
        }
        return new EvalSettings(probe, r.getInt("seeds", 1, 100), r.getLong("seed", 0, Long.MAX_VALUE), fraction,
                r.getInt("feature-batch", 1, 4096));
    }

    /**
     * These settings with command-line overrides (null = keep).
     *
     * @throws org.clmr.protocol.config.SettingsException naming the option when a value is out of range
     */
    public EvalSettings with(String head, Double fraction, Integer seedCount) {
        ProbeSpec p = probe;
        if (head != null) {
            if (!List.of("linear", "mlp").contains(head)) {
                throw new org.clmr.protocol.config.SettingsException("--head", head, "must be linear or mlp");
            }
            p = p.withKind(ProbeHead.Kind.parse(head));
        }
        if (fraction != null && !(fraction > 0 && fraction <= 1)) {
            throw new org.clmr.protocol.config.SettingsException("--label-fraction", fraction, "must be in (0, 1], e.g. 0.01 for 1%");
        }
        if (seedCount != null && (seedCount < 1 || seedCount > 100)) {
            throw new org.clmr.protocol.config.SettingsException("--seeds", seedCount, "must be an integer in [1, 100]");
        }
        return new EvalSettings(p, seedCount != null ? seedCount : seeds, seed, fraction != null ? fraction : labelFraction, featureBatch);
    }
}
