package org.clmr.protocol.run;

import org.clmr.protocol.config.ConfigReader;

/** Adam's hyper-parameters (the paper: lr 3e-4, betas 0.9 / 0.999). */
public record OptimizerSpec(double learningRate, double beta1, double beta2, double epsilon) {

    /** Reads {@code clmr.run.optimizer}. */
    public static OptimizerSpec from(ConfigReader r) {
        return new OptimizerSpec(
                r.getDouble("learning-rate", 1e-12, 10.0),
                r.getDouble("beta1", 0.0, 0.999999),
                r.getDouble("beta2", 0.0, 0.999999999),
                r.getDouble("epsilon", 1e-30, 1.0));
    }
}
