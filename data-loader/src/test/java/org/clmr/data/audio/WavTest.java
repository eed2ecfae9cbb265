package org.clmr.data.audio;

import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WavTest {

    @Test
    void shouldRoundTripPcm16WithinOneStep(@TempDir Path dir) {
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.05) * 0.9f;
        }
        Path f = dir.resolve("a.wav");
        Wav.writePcm16(f, x, 22050);
        Wav.Audio a = Wav.read(f);
        assertEquals(22050, a.sampleRate());
        assertEquals(x.length, a.samples().length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], a.samples()[i], 1.0 / 32768 + 1e-7);
        }
        assertEquals(new Wav.Format(1, 1, 22050, 16), Wav.format(f));
    }

    @Test
    void shouldRefuseATextFileWithOneLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("notes.wav");
        Files.writeString(f, "this is not audio");
        UserError e = assertThrows(UserError.class, () -> Wav.read(f));
        assertEquals(1, e.getMessage().lines().count());
    }
}
