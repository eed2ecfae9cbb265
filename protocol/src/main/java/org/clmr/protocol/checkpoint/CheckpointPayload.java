package org.clmr.protocol.checkpoint;

import org.clmr.protocol.Sha256;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The bytes of one training checkpoint: a versioned, self-describing container of named float32 tensors
 * (weights, Adam moments, batch-norm running statistics), named 64-bit counters (Adam step counts, batches
 * tracked), and the run's identity. Engine-neutral: no DJL type appears here.
 *
 * <pre>
 *  offset        size  field
 *  0             8     magic "CLMRCKPT" (ASCII)
 *  8             4     format version, int32 little-endian (currently 1)
 *  12            4     header length H, int32 little-endian
 *  16            H     header: UTF-8 JSON object
 *                        {"epoch", "step", "runSpecHash", "configHash", "runSpec" (the RunSpec's canonical JSON
 *                         as a string), "counters": {name: int64}, "tensors": [{"name", "shape": [..],
 *                         "offset", "count"}]}  offsets in bytes from the start of the data section
 *  16+H          D     data: every tensor's elements, float32 little-endian, in header order
 *  16+H+D        32    SHA-256 of bytes [0, 16+H+D)
 * </pre>
 *
 * @param epoch       epoch of the step the state is after
 * @param step        global steps completed
 * @param runSpecJson the RunSpec's canonical JSON
 * @param runSpecHash the RunSpec's hash
 * @param configHash  what decided the computation: the RunSpec and the data it ran on (the worker's
 *                    {@code ConfigHash}); equal for {@code clmr train} and cluster workers on the same run
 * @param counters    named integer state, e.g. {@code adam.step}
 * @param tensors     named tensors in a fixed order
 */
public record CheckpointPayload(int epoch, long step, String runSpecJson, String runSpecHash, String configHash,
                                Map<String, Long> counters, List<Tensor> tensors) {

    /** The format version this code writes; readers refuse any other. */
    public static final int FORMAT_VERSION = 1;
    private static final byte[] MAGIC = "CLMRCKPT".getBytes(StandardCharsets.US_ASCII);
    private static final int PREAMBLE = 16;
    private static final int DIGEST = 32;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One named float32 tensor, row-major. */
    public record Tensor(String name, long[] shape, float[] data) {
        public Tensor {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape)
                        + " holds " + n + " elements, data has " + data.length);
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tensor t && t.name.equals(name) && Arrays.equals(t.shape, shape)
                    && Arrays.equals(t.data, data);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape);
        }
    }

    public CheckpointPayload {
        counters = new TreeMap<>(counters);
        tensors = List.copyOf(tensors);
    }

    /** The tensors by name, in order. */
    public Map<String, Tensor> tensorsByName() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Tensor t : tensors) {
            m.put(t.name(), t);
        }
        return m;
    }

    /** A counter, or a clear failure if the checkpoint lacks it. */
    public long counter(String name) {
        Long v = counters.get(name);
        if (v == null) {
            throw new CheckpointCorruptException("checkpoint at step " + step + " lacks counter " + name);
        }
        return v;
    }

    /** Serialises to the format above, SHA-256 trailer included. */
    public byte[] encode() {
        ObjectNode header = JSON.createObjectNode();
        header.put("epoch", epoch);
        header.put("step", step);
        header.put("runSpecHash", runSpecHash);
        header.put("configHash", configHash);
        header.put("runSpec", runSpecJson);
        ObjectNode c = header.putObject("counters");
        counters.forEach(c::put);
        ArrayNode ts = header.putArray("tensors");
        long offset = 0;
        for (Tensor t : tensors) {
            ObjectNode o = ts.addObject();
            o.put("name", t.name());
            ArrayNode shape = o.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            o.put("offset", offset);
            o.put("count", t.data().length);
            offset += 4L * t.data().length;
        }
        byte[] h;
        try {
            h = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("checkpoint header not serializable", e);
        }
        long total = PREAMBLE + h.length + offset + DIGEST;
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("checkpoint of " + total + " bytes exceeds 2 GiB");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).putInt(FORMAT_VERSION).putInt(h.length).put(h);
        for (Tensor t : tensors) {
            buf.asFloatBuffer().put(t.data());
            buf.position(buf.position() + 4 * t.data().length);
        }
        buf.put(sha256(buf.array(), 0, buf.position()));
        return buf.array();
    }

    /**
     * Parses and verifies bytes written by {@link #encode()}.
     *
     * @throws CheckpointCorruptException naming what is wrong: magic, version, digest or layout
     */
    public static CheckpointPayload decode(byte[] bytes) {
        if (bytes.length < PREAMBLE + DIGEST || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new CheckpointCorruptException("not a clmr checkpoint (no CLMRCKPT magic at the start)");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(MAGIC.length);
        int version = buf.getInt();
        if (version != FORMAT_VERSION) {
            throw new CheckpointCorruptException("checkpoint format version " + version + ", this build reads "
                    + FORMAT_VERSION);
        }
        byte[] digest = sha256(bytes, 0, bytes.length - DIGEST);
        if (!Arrays.equals(digest, Arrays.copyOfRange(bytes, bytes.length - DIGEST, bytes.length))) {
            throw new CheckpointCorruptException("checkpoint SHA-256 mismatch: stored "
                    + HexFormat.of().formatHex(bytes, bytes.length - DIGEST, bytes.length) + ", content hashes to "
                    + HexFormat.of().formatHex(digest));
        }
        int headerLength = buf.getInt();
        if (headerLength < 2 || PREAMBLE + (long) headerLength > bytes.length - DIGEST) {
            throw new CheckpointCorruptException("checkpoint header length " + headerLength + " out of range");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, PREAMBLE, headerLength, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new CheckpointCorruptException("checkpoint header is not JSON: " + e.getOriginalMessage());
        }
        int dataStart = PREAMBLE + headerLength;
        long dataLength = bytes.length - DIGEST - dataStart;
        Map<String, Long> counters = new TreeMap<>();
        header.path("counters").fields().forEachRemaining(e -> counters.put(e.getKey(), e.getValue().asLong()));
        List<Tensor> tensors = new ArrayList<>();
        for (JsonNode t : header.path("tensors")) {
            long offset = t.path("offset").asLong(-1);
            int count = t.path("count").asInt(-1);
            if (offset < 0 || count < 0 || offset + 4L * count > dataLength) {
                throw new CheckpointCorruptException("checkpoint tensor " + t.path("name").asText()
                        + " lies outside the data section");
            }
            long[] shape = new long[t.path("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.path("shape").get(i).asLong();
            }
            float[] data = new float[count];
            ByteBuffer.wrap(bytes, (int) (dataStart + offset), 4 * count).order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer().get(data);
            try {
                tensors.add(new Tensor(t.path("name").asText(), shape, data));
            } catch (IllegalArgumentException e) {
                throw new CheckpointCorruptException("checkpoint " + e.getMessage());
            }
        }
        return new CheckpointPayload(header.path("epoch").asInt(), header.path("step").asLong(),
                header.path("runSpec").asText(), header.path("runSpecHash").asText(),
                header.path("configHash").asText(), counters, tensors);
    }

    /** SHA-256 (hex) of any bytes. */
    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256(bytes, 0, bytes.length));
    }

    private static byte[] sha256(byte[] bytes, int offset, int length) {
        return Sha256.digest(bytes, offset, length);
    }
}
