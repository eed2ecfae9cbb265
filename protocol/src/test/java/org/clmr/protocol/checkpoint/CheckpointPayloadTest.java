package org.clmr.protocol.checkpoint;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression cases of the checkpoint reader (issue #23): well-sealed checkpoints whose header lies about the
 * tensors are refused with one line before any tensor is allocated.
 */
class CheckpointPayloadTest {
    private static final String HEAD = "{\"epoch\":1,\"step\":2,\"runSpecHash\":\"a\",\"configHash\":\"b\","
            + "\"runSpec\":\"{}\",\"counters\":{},\"tensors\":";

    /** A sealed checkpoint of {@code header} and {@code dataBytes} zero bytes of data. */
    static byte[] sealed(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(16 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put("CLMRCKPT".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(h.length).put(h);
        return CheckpointPayloadFuzzTest.resealed(concat(b.array(), new byte[32]));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    private static String refusal(byte[] bytes) {
        String m = assertThrows(CheckpointCorruptException.class, () -> CheckpointPayload.decode(bytes)).getMessage();
        assertFalse(m.contains("\n") || m.contains("\r"), m);
        return m;
    }

    @Test
    void shouldReadBackASealedCheckpointOfTwoTensors() {
        CheckpointPayload p = CheckpointPayload.decode(sealed(HEAD + "[{\"name\":\"w\",\"shape\":[2],\"offset\":0,"
                + "\"count\":2},{\"name\":\"b\",\"shape\":[],\"offset\":8,\"count\":1}]}", 12));
        assertEquals(List.of("w", "b"), List.copyOf(p.tensorsByName().keySet()));
        assertEquals(2, p.step());
    }

    @Test
    void shouldRefuseTensorsThatOverlapBeforeAllocatingThem() {
        String t = "{\"name\":\"w%d\",\"shape\":[2],\"offset\":0,\"count\":2}";
        String m = refusal(sealed(HEAD + "[" + String.format(t, 1) + "," + String.format(t, 2) + "]}", 8));
        assertTrue(m.contains("w2") && m.contains("does not follow"), m);
    }

    @Test
    void shouldRefuseATensorNameGivenTwice() {
        String t = "{\"name\":\"w\",\"shape\":[1],\"offset\":%d,\"count\":1}";
        assertTrue(refusal(sealed(HEAD + "[" + String.format(t, 0) + "," + String.format(t, 4) + "]}", 8))
                .contains("name w of an earlier tensor"));
    }

    @Test
    void shouldRefuseSizesBeyondTheFileWithoutAllocatingThem() {
        // 2^31-1 floats (8 GiB) declared in a file of a few hundred bytes
        assertTrue(refusal(sealed(HEAD + "[{\"name\":\"w\",\"shape\":[2147483647],\"offset\":0,\"count\":2147483647}]}", 4))
                .contains("data section of 4 bytes"));
        assertTrue(refusal(sealed(HEAD + "[{\"name\":\"w\",\"shape\":[1],\"offset\":0,\"count\":4294967297}]}", 4))
                .contains("count"));
    }

    @Test
    void shouldRefuseAShapeThatDoesNotHoldItsCount() {
        // two negative dimensions multiply to the count; an overflowing product wraps to it
        refusal(sealed(HEAD + "[{\"name\":\"w\",\"shape\":[-1,-2],\"offset\":0,\"count\":2}]}", 8));
        refusal(sealed(HEAD + "[{\"name\":\"w\",\"shape\":[4294967296,4294967296,2],\"offset\":0,\"count\":0}]}", 0));
        refusal(sealed(HEAD + "[{\"name\":\"w\",\"shape\":{\"a\":2},\"offset\":0,\"count\":2}]}", 8));
    }

    @Test
    void shouldRefuseAHeaderNestedTooDeeplyWithOneLine() {
        String deep = "[".repeat(200_000) + "]".repeat(200_000);
        refusal(sealed(HEAD + deep + "}", 0));
    }

    @Test
    void shouldRefuseTheFuzzersTruncatedHeaderWithOneLine() throws Exception {
        // found by CheckpointPayloadFuzzTest: Jackson's message quotes the header, newlines included
        byte[] crash;
        try (var in = getClass().getResourceAsStream("CheckpointPayloadFuzzTestInputs/anyCheckpointBytes/"
                + "crash-32c791d97b0790049a8a1313b7cfc5dee7f99d95")) {
            crash = in.readAllBytes();
        }
        assertTrue(refusal(CheckpointPayloadFuzzTest.resealed(crash)).startsWith("checkpoint header is not JSON"));
    }

    @Test
    void shouldRefuseFieldsOfTheWrongType() {
        refusal(sealed("{\"epoch\":\"1\",\"step\":2,\"runSpecHash\":\"a\",\"configHash\":\"b\",\"runSpec\":\"{}\","
                + "\"counters\":{},\"tensors\":[]}", 0));
        refusal(sealed(HEAD.replace("\"counters\":{}", "\"counters\":{\"adam.step\":\"x\"}") + "[]}", 0));
        refusal(sealed("[]", 0));
        assertEquals(Map.of(), CheckpointPayload.decode(sealed(HEAD + "[]}", 0)).counters());
    }

    @Test
    void shouldKeepOneLineWhateverTheMessageQuotes() {
        assertEquals("a\\nb\\u0000c", new CheckpointCorruptException("a\nb\u0000c").getMessage());
        assertTrue(new CheckpointCorruptException("x".repeat(10_000)).getMessage().length() < 500);
    }
}
