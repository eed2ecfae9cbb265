package org.clmr.worker.model;

import org.clmr.protocol.checkpoint.CheckpointPayload;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The encoder of a checkpoint as a PyTorch state dict in safetensors: the reference SampleCNN's names
 * {@code sequential.{i}.0.weight|bias} and {@code sequential.{i}.1.weight|bias|running_mean|running_var|
 * num_batches_tracked}; the projection head and optimizer state are left out (the reference replaces
 * the encoder's {@code fc} by an identity for pre-training).
 */
public final class Export {
    private Export() {
    }

    /** Writes the encoder's state dict; returns the number of tensors written. */
    public static int encoder(CheckpointPayload payload, Path out) throws IOException {
        List<CheckpointPayload.Tensor> tensors = payload.tensors().stream()
                .filter(t -> t.name().startsWith("sequential.")).toList();
        Map<String, Long> scalars = new TreeMap<>();
        payload.counters().forEach((k, v) -> {
            if (k.startsWith("sequential.") && k.endsWith(".num_batches_tracked")) {
                scalars.put(k, v);
            }
        });
        Safetensors.write(out, tensors, scalars, Map.of("format", "pt", "producer", "clmr",
                "step", Long.toString(payload.step()), "run_spec_hash", payload.runSpecHash()));
        return tensors.size() + scalars.size();
    }

    /**
     * The fixed probe input export checks use: x[b, t] = 0.5 sin(0.001 (t + 1) (b + 1)) + 0.3 cos(0.37 t),
     * [batch, length] row-major (the Python check script computes the same).
     */
    public static float[] probe(int batch, int length) {
        float[] x = new float[batch * length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < length; t++) {
                x[b * length + t] = (float) (0.5 * Math.sin(0.001 * (t + 1) * (b + 1)) + 0.3 * Math.cos(0.37 * t));
            }
        }
        return x;
    }
}
