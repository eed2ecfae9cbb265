package org.clmr.data.dataset;

import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression cases of the index reader (issue #23): indexes whose content hash matches their (damaged) fields,
 * which ended in unchecked exceptions or a multi-line message before.
 */
class DatasetIndexRegressionTest {

    private static String refusal(Path dir, String json) throws IOException {
        byte[] rehashed = DatasetIndexFuzzTest.rehashed(json.getBytes(StandardCharsets.UTF_8));
        Path f = dir.resolve("index.json");
        Files.write(f, rehashed == null ? json.getBytes(StandardCharsets.UTF_8) : rehashed);
        String m = assertThrows(UserError.class, () -> DatasetIndex.read(f)).getMessage();
        assertFalse(m.contains("\n") || m.contains("\r"), m);
        return m;
    }

    private static String index(String track) {
        return "{\"format\":\"clmr-packed-dataset\",\"version\":1,\"sampleRate\":8000,\"trackCount\":1,\"totalSamples\":4,"
                + "\"tags\":[\"a\",\"b\"],\"dataSha256\":\"00\",\"contentHash\":\"\",\"tracks\":[" + track + "]}";
    }

    @Test
    void shouldRefuseTagsGivenAsAnObject(@TempDir Path dir) throws IOException {
        // an object's size counted its fields and get(i) returned null: NullPointerException
        assertTrue(refusal(dir, index("{\"id\":\"t\",\"offset\":0,\"length\":4,\"tags\":{\"x\":1},\"split\":\"train\"}"))
                .contains("bad split, tags"));
    }

    @Test
    void shouldRefuseALengthBeyondAnInt(@TempDir Path dir) throws IOException {
        // asInt wrapped 4294967300 to 4 and the layout check passed
        assertTrue(refusal(dir, index("{\"id\":\"t\",\"offset\":0,\"length\":4294967300,\"tags\":[],\"split\":\"train\"}"))
                .contains("length"));
    }

    @Test
    void shouldQuoteAnIdWithControlCharactersOnOneLine(@TempDir Path dir) throws IOException {
        assertTrue(refusal(dir, index("{\"id\":\"t\\n\\r\",\"offset\":3,\"length\":4,\"tags\":[],\"split\":\"train\"}"))
                .contains("t\\u000a\\u000d"));
    }

    @Test
    void shouldRefuseAnIndexNestedTooDeeply(@TempDir Path dir) throws IOException {
        refusal(dir, "{\"format\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}");
        refusal(dir, "[1]");
    }
}
