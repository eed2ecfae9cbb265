package org.clmr.eval;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigRenderOptions;
import org.clmr.eval.probe.ProbeHead;
import org.clmr.eval.probe.ProbeSpec;
import org.clmr.eval.probe.StopMetric;
import org.clmr.protocol.config.ConfigReader;
import org.clmr.protocol.config.SettingsException;

import java.util.ArrayList;
import java.util.List;

/**
 * The typed, validated {@code clmr.eval} section (evaluation's reference.conf documents every key).
 *
 * @param probe         how heads are trained and chosen (the active protocol's section merged with the shared keys)
 * @param protocol      the protocol's name, {@code fair} or {@code paper}
 * @param seeds         how many heads, with seeds {@code seed, seed + 1, ...}
 * @param seed          the first head's seed
 * @param labelFraction fraction of labelled training clips, in (0, 1]
 * @param featureBatch  windows per encoder forward pass
 */
public record EvalSettings(ProbeSpec probe, String protocol, int seeds, long seed, double labelFraction, int featureBatch) {
    /** The protocols, as {@code clmr.eval.protocol} spells them. */
    public static final List<String> PROTOCOLS = List.of("fair", "paper");
    private static final int MAX_GRID = 20;

    /** Reads and range-checks {@code clmr.eval}; a bad value is a SettingsException naming the key. */
    public static EvalSettings from(Config config) {
        ConfigReader r = new ConfigReader(config, "").at("clmr.eval");
        String protocol = r.getEnum("protocol", PROTOCOLS);
        ConfigReader p = r.at(protocol);
        ProbeSpec probe = new ProbeSpec(
                ProbeHead.Kind.parse(r.getEnum("head", List.of("linear", "mlp"))),
                r.getInt("hidden", 1, 65536),
                p.getBoolean("standardise"),
                weightDecays(p, "weight-decay"),
                ProbeSpec.LinearSolver.parse(p.getEnum("linear-solver", List.of("lbfgs", "adam"))),
                r.getInt("max-iterations", 1, 1_000_000),
                p.getDouble("learning-rate", 1e-9, 10),
                r.getInt("batch-size", 1, 1 << 20),
                r.getInt("max-epochs", 1, 100_000),
                p.getInt("patience", 1, 100_000),
                StopMetric.parse(p.getEnum("early-stopping-metric", StopMetric.keys())));
        double fraction = r.getDouble("label-fraction", 0, 1);
        if (fraction == 0) {
            throw new SettingsException(r.key("label-fraction"), fraction, "must be in (0, 1]");
        }
        return new EvalSettings(probe, protocol, r.getInt("seeds", 1, 100), r.getLong("seed", 0, Long.MAX_VALUE), fraction,
                r.getInt("feature-batch", 1, 4096));
    }

    /** A list of 1 to MAX_GRID distinct numbers in [0, 1]; returned ascending. */
    private static List<Double> weightDecays(ConfigReader r, String path) {
        String allowed = "must be a list of 1 to " + MAX_GRID + " distinct numbers in [0, 1], e.g. [1e-5, 1e-4, 1e-3] or [1e-6]";
        List<Double> grid;
        try {
            grid = new ArrayList<>(r.config().getDoubleList(path));
        } catch (ConfigException.Missing e) {
            throw new SettingsException(r.key(path), "missing; " + allowed);
        } catch (ConfigException.WrongType e) {
            throw new SettingsException(r.key(path), r.config().getValue(path).render(ConfigRenderOptions.concise()), allowed);
        }
        grid.sort(Double::compare);
        boolean ok = !grid.isEmpty() && grid.size() <= MAX_GRID;
        for (int i = 0; i < grid.size(); i++) {
            ok &= grid.get(i) >= 0 && grid.get(i) <= 1 && (i == 0 || grid.get(i) > grid.get(i - 1));
        }
        if (!ok) {
            throw new SettingsException(r.key(path), grid, allowed);
        }
        return List.copyOf(grid);
    }

    /**
     * These settings with command-line overrides (null = keep).
     *
     * @throws SettingsException naming the option when a value is out of range
     */
    public EvalSettings with(String head, Double fraction, Integer seedCount) {
        ProbeSpec p = probe;
        if (head != null) {
            if (!List.of("linear", "mlp").contains(head)) {
                throw new SettingsException("--head", head, "must be linear or mlp");
            }
            p = p.withKind(ProbeHead.Kind.parse(head));
        }
        if (fraction != null && !(fraction > 0 && fraction <= 1)) {
            throw new SettingsException("--label-fraction", fraction, "must be in (0, 1], e.g. 0.01 for 1%");
        }
        if (seedCount != null && (seedCount < 1 || seedCount > 100)) {
            throw new SettingsException("--seeds", seedCount, "must be an integer in [1, 100]");
        }
        return new EvalSettings(p, protocol, seedCount != null ? seedCount : seeds, seed, fraction != null ? fraction : labelFraction,
                featureBatch);
    }
}
