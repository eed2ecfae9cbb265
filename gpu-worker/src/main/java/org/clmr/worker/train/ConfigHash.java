package org.clmr.worker.train;

import org.clmr.protocol.Sha256;
import org.clmr.protocol.run.RunSpec;

/**
 * A checkpoint's config hash: the SHA-256 of what decides a run's computation and of nothing else. Its
 * inputs are the {@link RunSpec} (model, sample rate, global batch, epochs, seed, temperature, optimizer,
 * augmentations, checkpoint policy) and the batch source's {@link ViewPairSource#dataKey() data key} (a
 * packed dataset's content hash and {@code clmr.data.pretrain.concat-songs}; the generated tone set's size
 * and seed). Ports, devices, paths, thread counts and logging settings change no step and are left out.
 * Only the {@link TrainingLoop} computes it, from its own spec and source, so {@code clmr train} and every
 * worker of a cluster write the same hash for the same run on the same data. Stateless.
 */
public final class ConfigHash {
    /** Names this definition in the hashed text, so a later definition can never collide with it. */
    private static final String VERSION = "clmr config hash 1";

    private ConfigHash() {
    }

    /** The hash of a run's spec trained on the batches of a source with data key {@code dataKey}. */
    public static String of(RunSpec spec, String dataKey) {
        return Sha256.hex(VERSION + "\nrun " + spec.canonicalJson() + "\ndata " + dataKey);
    }
}
