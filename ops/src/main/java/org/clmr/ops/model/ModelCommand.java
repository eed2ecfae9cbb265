package org.clmr.ops.model;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.ModelCheckpoint;
import org.clmr.worker.model.ModelSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code clmr model}: the layer table of a preset or of a checkpoint's model, with parameter totals. */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Print the SampleCNN + projection head layer table (name, output shape, parameters) and totals.")
public final class ModelCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--preset", paramLabel = "P", description = "paper, small or tiny (default: clmr.run.model.preset)")
    String preset;

    @Option(names = "--projection-dim", paramLabel = "D", description = "width of z (default: clmr.run.model.projection-dim)")
    Integer projectionDim;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "describe the model of this checkpoint file, with its weights fingerprint")
    Path checkpoint;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ModelSpec model;
        CheckpointPayload payload = null;
        if (checkpoint != null) {
            payload = Checkpoints.readFile(checkpoint);
            model = modelOf(payload, checkpoint);
        } else {
            ModelSpec configured = RunSpec.from(options.load()).model();
            model = ModelSpec.preset(preset == null ? configured.preset() : preset,
                    projectionDim == null ? configured.projectionDim() : projectionDim).validated();
        }
        out.printf("SampleCNN preset %s: %d samples in, %d-d features, %d-d projection%n", model.preset(),
                model.inputLength(), model.encoderDim(), model.projectionDim());
        out.printf("%-14s %-50s %-14s %12s%n", "name", "layer", "output", "parameters");
        for (ModelSummary.Row r : ModelSummary.rows(model)) {
            out.printf("%-14s %-50s %-14s %,12d%n", r.name(), r.layer(), r.outShape(), r.parameters());
        }
        long enc = ModelSummary.encoderParameters(model);
        long head = ModelSummary.headParameters(model);
        out.printf("encoder %,d + projection head %,d = %,d trainable parameters%n", enc, head, enc + head);
        if (payload != null) {
            try (ClmrNetwork net = ClmrNetwork.create(model, 0, Device.cpu())) {
                ModelCheckpoint.restore(payload, net);
                out.printf("checkpoint step %d, epoch %d, run spec %s, weights fingerprint %s%n", payload.step(),
                        payload.epoch(), payload.runSpecHash(), net.fingerprint());
            }
        }
        out.flush();
        return 0;
    }

    /** The model shape recorded in a checkpoint's RunSpec. */
    static ModelSpec modelOf(CheckpointPayload payload, Path file) {
        try {
            JsonNode m = new ObjectMapper().readTree(payload.runSpecJson()).path("model");
            return ModelSpec.preset(m.path("preset").asText(), m.path("projectionDim").asInt()).validated();
        } catch (Exception e) {
            throw new UserError("checkpoint " + file + " does not name a known model preset in its RunSpec: " + e.getMessage());
        }
    }
}
