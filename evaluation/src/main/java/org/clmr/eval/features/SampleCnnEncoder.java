package org.clmr.eval.features;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.ModelCheckpoint;
import org.clmr.worker.model.Tensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The frozen SampleCNN encoder of a checkpoint (or a randomly initialised one, the baseline) as a
 * {@link WindowEncoder}: h (not the projection z) in inference mode, batch norm with its running
 * statistics. Owns the network's native memory; close it. One thread.
 */
public final class SampleCnnEncoder implements WindowEncoder, AutoCloseable {
    private static final Pattern STEP_FILE = Pattern.compile("step-(\\d+)\\.ckpt");
    private final ClmrNetwork net;
    private final int sampleRate;
    private final String description;
    private final String identity;

    private SampleCnnEncoder(ClmrNetwork net, int sampleRate, String description, String identity) {
        this.net = net;
        this.sampleRate = sampleRate;
        this.description = description;
        this.identity = identity;
    }

    /**
     * Loads the encoder of a checkpoint: a {@code .ckpt} file, or a directory of them (a run's
     * checkpoint directory; its highest {@code step-N.ckpt} is taken).
     *
     * @throws UserError one line when the path holds no readable, verified checkpoint
     */
    public static SampleCnnEncoder fromCheckpoint(Path path) {
        Path file = resolve(path);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UserError("--checkpoint " + file + ": cannot read: " + e.getMessage());
        }
        CheckpointPayload payload;
        try {
            payload = CheckpointPayload.decode(bytes);
        } catch (CheckpointCorruptException e) {
            throw new UserError("--checkpoint " + file + ": " + e.getMessage() + "; give a verified checkpoint written by clmr train");
        }
        JsonNode run;
        try {
            run = new ObjectMapper().readTree(payload.runSpecJson());
        } catch (IOException e) {
            throw new UserError("--checkpoint " + file + ": its run spec is not JSON: " + e.getMessage());
        }
        ModelSpec spec = modelSpec(run.path("model"), file);
        ClmrNetwork net = ClmrNetwork.create(spec, run.path("seed").asLong(), device());
        try {
            ModelCheckpoint.restore(payload, net);
        } catch (CheckpointCorruptException e) {
            net.close();
            throw new UserError("--checkpoint " + file + ": " + e.getMessage());
        }
        String description = "checkpoint " + file.getFileName() + " (epoch " + payload.epoch() + ", step " + payload.step()
                + ", " + spec.preset() + ")";
        return new SampleCnnEncoder(net, run.path("sampleRate").asInt(), description,
                "checkpoint:" + CheckpointPayload.sha256Hex(bytes));
    }

    /** A randomly initialised encoder (the baseline that shows what pre-training bought). */
    public static SampleCnnEncoder random(ModelSpec spec, int sampleRate, long seed) {
        ClmrNetwork net = ClmrNetwork.create(spec, seed, device());
        return new SampleCnnEncoder(net, sampleRate, "random (" + spec.preset() + ", seed " + seed + ")",
                "random:" + spec + ":" + seed + ":" + net.fingerprint());
    }

    private static Device device() {
        return Engine.getEngine("PyTorch").defaultDevice();
    }

    private static ModelSpec modelSpec(JsonNode m, Path file) {
        List<Integer> blocks = new ArrayList<>();
        for (JsonNode b : m.path("blockChannels")) {
            blocks.add(b.asInt());
        }
        if (blocks.isEmpty() || m.path("inputLength").asInt() <= 0) {
            throw new UserError("--checkpoint " + file + ": its run spec has no model shape");
        }
        return new ModelSpec(m.path("preset").asText(), m.path("inputLength").asInt(), m.path("stemChannels").asInt(),
                blocks, m.path("projectionDim").asInt()).validated();
    }

    private static Path resolve(Path path) {
        if (Files.isRegularFile(path)) {
            return path;
        }
        if (!Files.isDirectory(path)) {
            throw new UserError("--checkpoint " + path + ": no such file or directory; give a step-N.ckpt file or a run directory");
        }
        List<Path> found;
        try (Stream<Path> files = Files.find(path, 3, (p, a) -> a.isRegularFile() && STEP_FILE.matcher(p.getFileName().toString()).matches())) {
            found = files.toList();
        } catch (IOException e) {
            throw new UserError("--checkpoint " + path + ": cannot list: " + e.getMessage());
        }
        if (found.isEmpty()) {
            throw new UserError("--checkpoint " + path + ": no step-N.ckpt file in it or its subfolders; give a checkpoint of clmr train");
        }
        if (found.stream().map(Path::getParent).distinct().count() > 1) {
            throw new UserError("--checkpoint " + path + ": holds checkpoints of several runs; give one run's checkpoint folder or a step-N.ckpt file");
        }
        return found.stream().max(Comparator.comparingLong(SampleCnnEncoder::step)).orElseThrow();
    }

    private static long step(Path p) {
        Matcher m = STEP_FILE.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** One line naming the encoder, for reports. */
    public String description() {
        return description;
    }

    /** What makes features differ: the checkpoint's SHA-256, or the random encoder's spec, seed and weights. */
    public String identity() {
        return identity;
    }

    /** The sample rate the encoder was trained at (the dataset must match). */
    public int sampleRate() {
        return sampleRate;
    }

    public ModelSpec spec() {
        return net.spec();
    }

    @Override
    public int inputLength() {
        return net.spec().inputLength();
    }

    @Override
    public int dim() {
        return net.spec().encoderDim();
    }

    @Override
    public float[] encode(float[] windows, int count) {
        int length = inputLength();
        try (NDManager scope = net.manager().newSubManager()) {
            float[] batch = windows.length == count * length ? windows : java.util.Arrays.copyOf(windows, count * length);
            NDArray x = Tensors.upload(scope, batch, new Shape(count, 1, length));                      // [B, 1, L]
            NDArray h = net.encode(x);                                                                          // [B, D]
            return h.toFloatArray();
        }
    }

    @Override
    public void close() {
        net.close();
    }
}
