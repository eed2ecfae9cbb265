package org.clmr.worker.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.protocol.checkpoint.CheckpointPayload;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes the safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N
 * bytes of JSON ({@code name -> {"dtype", "shape", "data_offsets": [begin, end]}} plus an optional
 * {@code __metadata__} map of strings; keys sorted, padded with spaces to a multiple of 8), then the
 * tensors' little-endian bytes back to back in key order. Float tensors are F32; integer scalars
 * (batch norm's {@code num_batches_tracked}) are I64.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {
    }

    /**
     * Writes float tensors, 64-bit integer scalars and metadata to {@code file} (via a temporary name).
     */
    public static void write(Path file, List<CheckpointPayload.Tensor> tensors, Map<String, Long> int64Scalars,
                             Map<String, String> metadata) throws IOException {
        Map<String, Object> entries = new TreeMap<>();
        tensors.forEach(t -> entries.put(t.name(), t));
        int64Scalars.forEach(entries::put);
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Object> e : entries.entrySet()) {
            ObjectNode o = header.putObject(e.getKey());
            long bytes;
            if (e.getValue() instanceof CheckpointPayload.Tensor t) {
                o.put("dtype", "F32");
                var shape = o.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
                bytes = 4L * t.data().length;
            } else {
                o.put("dtype", "I64");
                o.putArray("shape");
                bytes = 8;
            }
            o.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = headerBytes(header);
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(temp)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            out.write(json);
            for (Object v : entries.values()) {
                ByteBuffer b;
                if (v instanceof CheckpointPayload.Tensor t) {
                    b = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
                    b.asFloatBuffer().put(t.data());
                } else {
                    b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong((Long) v);
                }
                out.write(b.array());
            }
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
    }

    private static byte[] headerBytes(ObjectNode header) throws JsonProcessingException {
        String s = JSON.writeValueAsString(header);
        int len = s.getBytes(StandardCharsets.UTF_8).length;
        StringBuilder padded = new StringBuilder(s);
        while (len % 8 != 0) {
            padded.append(' ');
            len++;
        }
        return padded.toString().getBytes(StandardCharsets.UTF_8);
    }
}
