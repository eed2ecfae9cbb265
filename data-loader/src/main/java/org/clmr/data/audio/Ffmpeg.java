package org.clmr.data.audio;

import org.clmr.protocol.UserError;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Decodes audio through an {@code ffmpeg} subprocess, as the paper did:
 * {@code ffmpeg -nostdin -v error -i IN -ac 1 -ar SR -f s16le -}, i.e. mono (channels averaged),
 * resampled to SR, little-endian int16 on stdout. Thread-safe: every call starts its own process.
 */
public final class Ffmpeg {
    private final String executable;

    /** Uses {@code executable} ("ffmpeg" to find it on PATH). */
    public Ffmpeg(String executable) {
        this.executable = executable;
    }

    /** What a decode produced: PCM bytes, or the reason it failed. */
    public record Result(byte[] pcm16le, String error) {
        /** True when ffmpeg exited 0. */
        public boolean ok() {
            return error == null;
        }
    }

    /**
     * Checks that ffmpeg runs.
     *
     * @throws UserError (one line, how to install it) when it cannot be started
     */
    public void require() {
        try {
            Process p = new ProcessBuilder(executable, "-nostdin", "-version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                throw new UserError(executable + " -version failed; install ffmpeg: apt-get install -y ffmpeg");
            }
        } catch (IOException e) {
            throw new UserError("ffmpeg not found (" + executable + " is not on PATH); install it: apt-get install -y ffmpeg"
                    + " (or set clmr.data.prepare.ffmpeg to its path)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while checking ffmpeg");
        }
    }

    /** Decodes {@code file} to mono int16 at {@code sampleRate}. */
    public Result decode(Path file, int sampleRate) {
        List<String> cmd = List.of(executable, "-nostdin", "-v", "error", "-i", file.toString(), "-ac", "1",
                "-ar", Integer.toString(sampleRate), "-f", "s16le", "-");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new UserError("cannot start ffmpeg (" + executable + "): " + e.getMessage()
                    + "; install it: apt-get install -y ffmpeg");
        }
        // a thread of its own drains stderr, so a chatty ffmpeg never blocks on a full pipe
        CompletableFuture<String> err = new CompletableFuture<>();
        Thread drain = new Thread(() -> err.complete(firstLine(p.getErrorStream())), "clmr-ffmpeg-stderr");
        drain.setDaemon(true);
        drain.start();
        try {
            byte[] pcm = p.getInputStream().readAllBytes();
            int code = p.waitFor();
            // "[mp3 @ 0x5615...]" names a heap address that changes every run; the report should not
            String message = err.join().replaceAll(" @ 0x[0-9a-fA-F]+", "");
            if (code != 0) {
                return new Result(null, "ffmpeg could not decode it (exit " + code + (message.isEmpty() ? "" : ": " + message) + ")");
            }
            return new Result(pcm, null);
        } catch (IOException e) {
            p.destroyForcibly();
            return new Result(null, "reading ffmpeg's output failed: " + e.getMessage());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while decoding " + file);
        }
    }

    private static String firstLine(InputStream in) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) > 0) {
                if (b.size() < 4096) {
                    b.write(buf, 0, Math.min(n, 4096 - b.size()));
                }
            }
            String s = b.toString(StandardCharsets.UTF_8).strip();
            int nl = s.indexOf('\n');
            return (nl < 0 ? s : s.substring(0, nl)).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
