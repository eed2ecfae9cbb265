package org.clmr.eval.features;

import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @TempDir
    Path dir;

    @Test
    void shouldWriteNumpysVersionOneLayoutAndReadItBack() throws Exception {
        float[] data = new float[3 * 5];
        for (int i = 0; i < data.length; i++) {
            data[i] = i * 0.5f - 3;
        }
        Path f = dir.resolve("m.npy");
        Npy.write(f, 3, 5, data);
        byte[] bytes = Files.readAllBytes(f);
        int headerLength = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLength) % 64, "header aligned to 64 bytes");
        String header = new String(bytes, 10, headerLength, StandardCharsets.US_ASCII);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }", header.strip());
        assertTrue(header.endsWith("\n"));
        assertEquals(10 + headerLength + 4 * 15, bytes.length);
        Npy.Matrix m = Npy.read(f);
        assertEquals(3, m.rows());
        assertEquals(5, m.cols());
        assertArrayEquals(data, m.data());
    }

    @Test
    void shouldRefuseAFileThatIsNotNpy() throws Exception {
        Path f = dir.resolve("x.npy");
        Files.writeString(f, "hello");
        UserError e = assertThrows(UserError.class, () -> Npy.read(f));
        assertTrue(e.getMessage().contains("not a .npy file"), e.getMessage());
    }
}
