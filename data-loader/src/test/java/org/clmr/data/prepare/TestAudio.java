package org.clmr.data.prepare;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Real audio files written by ffmpeg for the tests; tests skip with a message when ffmpeg is missing. */
final class TestAudio {
    private TestAudio() {
    }

    static void assumeFfmpeg() {
        boolean ok;
        try {
            Process p = new ProcessBuilder("ffmpeg", "-version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            ok = p.waitFor() == 0;
        } catch (IOException e) {
            ok = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
        }
        Assumptions.assumeTrue(ok, "ffmpeg is not installed (apt-get install -y ffmpeg); skipping the prepare tests");
    }

    /** A sine tone of {@code seconds} at {@code hz}, encoded by ffmpeg into {@code file} (format from its extension). */
    static Path tone(Path file, double hz, double seconds, int rate, int channels, String... codec) {
        List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                "sine=frequency=" + hz + ":sample_rate=" + rate + ":duration=" + seconds, "-ac", Integer.toString(channels)));
        cmd.addAll(List.of(codec));
        cmd.add(file.toString());
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException("ffmpeg failed writing " + file + ": " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return file;
    }
}
