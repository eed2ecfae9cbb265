package org.clmr.protocol.run;

import org.clmr.protocol.config.ConfigReader;

/**
 * When checkpoints are written and which are kept.
 *
 * @param everySteps      write one every this many steps
 * @param keepLast        keep the newest K
 * @param keepEveryEpochs also keep the first checkpoint of every M-th epoch (0: none)
 */
public record CheckpointPolicy(int everySteps, int keepLast, int keepEveryEpochs) {

    /** Reads {@code clmr.run.checkpoint}. */
    public static CheckpointPolicy from(ConfigReader r) {
        return new CheckpointPolicy(
                r.getInt("every-steps", 1, Integer.MAX_VALUE),
                r.getInt("keep-last", 1, 10_000),
                r.getInt("keep-every-epochs", 0, Integer.MAX_VALUE));
    }
}
