package org.clmr.ops;

import com.typesafe.config.Config;
import org.clmr.protocol.run.RunSpec;

/** Reads every module's typed Settings once, so that any bad value is found at start. */
final class AllSettings {
    private AllSettings() {
    }

    static void validate(Config config) {
        RunSpec.from(config);
        org.clmr.eval.EvalSettings.from(config);
        org.clmr.coordinator.CoordinatorSettings.from(config);
        org.clmr.worker.collective.AeronSettings.from(config);
        org.clmr.data.DataSettings.from(config);
        org.clmr.worker.train.TrainSettings.from(config);
        org.clmr.worker.actor.WorkerSettings.from(config);
        org.clmr.worker.metrics.MetricsSettings.from(config);
        org.clmr.protocol.security.SecuritySettings.from(config);
    }
}
