package org.clmr.ops.eval;

import com.typesafe.config.Config;
import org.clmr.eval.features.SampleCnnEncoder;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.run.RunSpec;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --checkpoint C | --encoder random}: which frozen encoder a command uses (exactly one). */
public final class EncoderOptions {
    @Option(names = "--checkpoint", paramLabel = "C", required = true,
            description = "A checkpoint file (step-N.ckpt), a run's checkpoint directory (its latest is used), or a cluster"
                    + " run's directory (its newest committed checkpoint is copied to RUN_DIR/checkpoints/RUN_ID/)")
    Path checkpoint;

    @Option(names = "--encoder", paramLabel = "random", required = true,
            description = "`random`: a randomly initialised encoder of clmr.run.model (seed clmr.run.seed), the baseline")
    String encoder;

    /** Opens the chosen encoder; a random one takes its shape and seed from {@code clmr.run} and the dataset's rate. */
    SampleCnnEncoder open(Config config, int datasetSampleRate) {
        if (checkpoint != null) {
            return SampleCnnEncoder.fromCheckpoint(ClusterCheckpoint.resolve(config, checkpoint));
        }
        if (!"random".equals(encoder)) {
            throw new SettingsException("--encoder", encoder, "must be `random` (or give --checkpoint instead)");
        }
        RunSpec run = RunSpec.from(config);
        return SampleCnnEncoder.random(run.model(), datasetSampleRate, run.seed());
    }
}
