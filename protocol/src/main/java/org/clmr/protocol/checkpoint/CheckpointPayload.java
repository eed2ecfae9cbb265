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
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
     * Parses and verifies bytes written by {@link #encode()}. The whole header is checked before any tensor is
     * allocated: tensors must follow each other in header order without gap or overlap, fill the data section
     * exactly, and have distinct names and shapes that hold their counts, so nothing larger than the input is
     * ever allocated.
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
        JsonNode header = header(bytes, headerLength);
        int dataStart = PREAMBLE + headerLength;
        List<Layout> layout = layout(header.get("tensors"), bytes.length - DIGEST - dataStart);
        List<Tensor> tensors = new ArrayList<>(layout.size());
        for (Layout l : layout) {
            float[] data = new float[l.count()];
            ByteBuffer.wrap(bytes, (int) (dataStart + l.offset()), 4 * l.count()).order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer().get(data);
            tensors.add(new Tensor(l.name(), l.shape(), data));
        }
        return new CheckpointPayload(integer(header, "epoch", 0, Integer.MAX_VALUE).intValue(),
                integer(header, "step", 0, Long.MAX_VALUE), text(header, "runSpec"), text(header, "runSpecHash"),
                text(header, "configHash"), counters(header.get("counters")), tensors);
    }

    /** Where one tensor lies in the data section, checked against the section before anything is allocated. */
    private record Layout(String name, long[] shape, long offset, int count) {
    }

    private static JsonNode header(byte[] bytes, int headerLength) {
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, PREAMBLE, headerLength, StandardCharsets.UTF_8));
        } catch (JsonProcessingException | StackOverflowError e) {
            // Jackson 2.11 parses nested arrays recursively: a deep nest ends the stack, not the parser
            throw new CheckpointCorruptException("checkpoint header is not JSON: " + (e instanceof JsonProcessingException j
                    ? j.getOriginalMessage() : "nested too deeply"));
        }
        if (header == null || !header.isObject() || !header.path("tensors").isArray()
                || !header.path("counters").isObject()) {
            throw new CheckpointCorruptException("checkpoint header is not an object with a tensors array and a "
                    + "counters object");
        }
        return header;
    }

    private static List<Layout> layout(JsonNode tensors, long dataLength) {
        List<Layout> out = new ArrayList<>(tensors.size());
        Set<String> names = new HashSet<>();
        long next = 0;
        for (JsonNode t : tensors) {
            String name = t.path("name").isTextual() ? t.path("name").asText() : "";
            if (name.isEmpty() || !names.add(name)) {
                throw new CheckpointCorruptException("checkpoint tensor " + out.size() + " has "
                        + (name.isEmpty() ? "no name" : "the name " + name + " of an earlier tensor"));
            }
            long offset = integer(t, "offset", 0, Long.MAX_VALUE);
            long count = integer(t, "count", 0, Integer.MAX_VALUE);
            if (offset != next || count > (dataLength - next) / 4) {
                throw new CheckpointCorruptException("checkpoint tensor " + name + " at byte " + offset + " with "
                        + count + " floats does not follow the previous tensor at byte " + next
                        + " inside the data section of " + dataLength + " bytes");
            }
            out.add(new Layout(name, shape(t.path("shape"), name, count), offset, (int) count));
            next += 4 * count;
        }
        if (next != dataLength) {
            throw new CheckpointCorruptException("checkpoint tensors fill " + next + " bytes of a data section of "
                    + dataLength);
        }
        return out;
    }

    private static long[] shape(JsonNode shape, String name, long count) {
        if (!shape.isArray() || shape.size() > 16) {
            throw new CheckpointCorruptException("checkpoint tensor " + name + " has no shape of at most 16 dimensions");
        }
        long[] dims = new long[shape.size()];
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new CheckpointCorruptException("checkpoint tensor " + name + " has dimension " + d + " in its shape");
            }
            dims[i] = d.asLong();
            n = dims[i] == 0 || n <= count / dims[i] ? n * dims[i] : -1;
            if (n < 0) {
                break;
            }
        }
        if (n != count) {
            throw new CheckpointCorruptException("checkpoint tensor " + name + ": shape " + shape + " does not hold "
                    + count + " elements");
        }
        return dims;
    }

    private static Long integer(JsonNode o, String field, long min, long max) {
        JsonNode v = o.path(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            throw new CheckpointCorruptException("checkpoint field " + field + " = " + v + " is not an integer in ["
                    + min + ", " + max + "]");
        }
        return v.asLong();
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.path(field);
        if (!v.isTextual()) {
            throw new CheckpointCorruptException("checkpoint field " + field + " is not a string");
        }
        return v.asText();
    }

    private static Map<String, Long> counters(JsonNode counters) {
        Map<String, Long> out = new TreeMap<>();
        counters.fieldNames().forEachRemaining(name -> out.put(name, integer(counters, name, Long.MIN_VALUE,
                Long.MAX_VALUE)));
        return out;
    }

    /** SHA-256 (hex) of any bytes. */
    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256(bytes, 0, bytes.length));
    }

    private static byte[] sha256(byte[] bytes, int offset, int length) {
        return Sha256.digest(bytes, offset, length);
    }
}
