package org.clmr.ops.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Export;
import org.clmr.worker.model.ModelCheckpoint;
import org.clmr.worker.model.Tensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code clmr export}: a checkpoint's encoder as a safetensors state dict with the reference names. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a checkpoint's encoder weights as safetensors with spijkervet/CLMR's SampleCNN state-dict names.")
public final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "a step-*.ckpt file")
    Path checkpoint;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the .safetensors file to write")
    Path out;

    @Option(names = "--probe-out", paramLabel = "FILE",
            description = "also write the encoder's eval-mode output on the fixed probe input as JSON (for checks in PyTorch)")
    Path probeOut;

    @Option(names = "--probe-batch", defaultValue = "2", description = "waveforms in the probe (default ${DEFAULT-VALUE})")
    int probeBatch;

    @Override
    public Integer call() throws IOException {
        CheckpointPayload payload = Checkpoints.readFile(checkpoint);
        int n;
        try {
            n = Export.encoder(payload, out);
        } catch (IOException e) {
            throw new UserError("cannot write " + out + ": " + e.getMessage());
        }
        spec.commandLine().getOut().printf("wrote %s: %d encoder tensors of step %d%n", out, n, payload.step());
        if (probeOut != null) {
            ModelSpec model = ModelCommand.modelOf(payload, checkpoint);
            try (ClmrNetwork net = ClmrNetwork.create(model, 0, Device.cpu());
                 NDManager m = net.manager().newSubManager()) {
                ModelCheckpoint.restore(payload, net);
                NDArray h = net.encode(Tensors.upload(m, Export.probe(probeBatch, model.inputLength()),
                        new Shape(probeBatch, 1, model.inputLength())));
                ObjectMapper json = new ObjectMapper();
                ObjectNode o = json.createObjectNode();
                o.put("batch", probeBatch);
                o.put("length", model.inputLength());
                var arr = o.putArray("h");
                for (float v : h.toFloatArray()) {
                    arr.add(v);
                }
                json.writeValue(probeOut.toFile(), o);
            }
            spec.commandLine().getOut().printf("wrote %s: encoder output on the probe input%n", probeOut);
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
