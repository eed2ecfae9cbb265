package org.clmr.worker.model;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.train.TrainingCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ExportTest {

    @Test
    void shouldWriteTheEncoderAsSafetensorsWithTheReferenceNames(@TempDir Path dir) throws Exception {
        RunSpec spec = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.model.projection-dim=16")));
        CheckpointPayload payload;
        try (ClmrNetwork net = ClmrNetwork.create(spec.model(), 2, Device.cpu());
             Adam adam = new Adam(spec.optimizer(), net.params())) {
            net.segments().get(3).runningMean()[1] = 0.25f;
            net.segments().get(3).setBatchesTracked(9);
            payload = TrainingCheckpoint.capture(net, adam, spec, "c", 0, 5, Map.of());
        }
        Path file = dir.resolve("encoder.safetensors");
        assertEquals(8 * 7, Export.encoder(payload, file));

        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong();
        assertEquals(0, n % 8, "header padded to 8 bytes");
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        List<String> names = new ArrayList<>();
        header.fieldNames().forEachRemaining(names::add);
        assertEquals("__metadata__", names.remove(0));
        List<String> sorted = new ArrayList<>(names);
        java.util.Collections.sort(sorted);
        assertEquals(sorted, names, "keys sorted");
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            for (String s : List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                    "1.num_batches_tracked")) {
                expected.add("sequential." + i + "." + s);
            }
        }
        java.util.Collections.sort(expected);
        assertEquals(expected, names);

        long end = 0;
        for (Iterator<String> it = names.iterator(); it.hasNext(); ) {
            JsonNode t = header.get(it.next());
            assertEquals(end, t.get("data_offsets").get(0).asLong(), "contiguous");
            end = t.get("data_offsets").get(1).asLong();
        }
        assertEquals(bytes.length, 8 + n + end);
        JsonNode conv = header.get("sequential.1.0.weight");
        assertEquals("F32", conv.get("dtype").asText());
        assertEquals("[16,16,3]", conv.get("shape").toString());
        JsonNode tracked = header.get("sequential.3.1.num_batches_tracked");
        assertEquals("I64", tracked.get("dtype").asText());
        assertEquals(9L, buf.getLong((int) (8 + n + tracked.get("data_offsets").get(0).asLong())));
        JsonNode rm = header.get("sequential.3.1.running_mean");
        assertEquals(0.25f, buf.getFloat((int) (8 + n + rm.get("data_offsets").get(0).asLong() + 4)));
        float[] w = new float[16 * 16 * 3];
        ByteBuffer.wrap(bytes, (int) (8 + n + conv.get("data_offsets").get(0).asLong()), 4 * w.length)
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(w);
        assertArrayEquals(payload.tensorsByName().get("sequential.1.0.weight").data(), w);
    }

    @Test
    void shouldCountTheSameParametersInTheSummaryAsInTheNetwork() {
        for (String preset : List.of("small", "tiny")) {
            ModelSpec spec = ModelSpec.preset(preset, 32);
            try (ClmrNetwork net = ClmrNetwork.create(spec, 1, Device.cpu())) {
                assertEquals(ClmrNetwork.count(net.encoderParams()), ModelSummary.encoderParameters(spec), preset);
                assertEquals(ClmrNetwork.count(net.headParams()), ModelSummary.headParameters(spec), preset);
            }
        }
        assertEquals(2_368_512, ModelSummary.encoderParameters(ModelSpec.paper(128)));
        assertEquals(327_680, ModelSummary.headParameters(ModelSpec.paper(128)));
    }
}
