package org.clmr.eval.features;

import org.clmr.data.audio.Ffmpeg;
import org.clmr.data.prepare.Progress;
import org.clmr.protocol.UserError;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One embedding per audio file ({@code clmr embed --input FILES_OR_FOLDERS}): each file is decoded by ffmpeg as
 * {@code clmr prepare} decodes it (mono, resampled to the encoder's rate), cut into consecutive windows of the
 * encoder's input length (a last partial window dropped), and the windows' features averaged, so a file of any
 * length has one embedding. A file that does not decode, is empty, or is shorter than one window has none and is
 * listed with the reason; nothing stops the others. The next file is decoded on a thread of its own while the
 * encoder works on the current one. Caller's thread otherwise.
 */
public final class AudioEmbedder {
    private AudioEmbedder() {
    }

    /**
     * The embeddings and the files left out.
     *
     * @param embeddings one row (one "window", the mean of the file's) per embedded file, ids as listed
     * @param skipped    every file without an embedding, and why
     */
    public record Result(FeatureSet embeddings, List<AudioFiles.Skipped> skipped) {
    }

    private record Decoded(float[] samples, String error) {
    }

    /**
     * Embeds the files of a listing.
     *
     * @param sampleRate the rate the encoder was trained at (files are decoded to it)
     * @param batch      windows per encoder call
     */
    public static Result embed(AudioFiles.Listing listing, WindowEncoder encoder, int sampleRate, Ffmpeg ffmpeg,
                               int batch) {
        ffmpeg.require();
        List<AudioFiles.Source> sources = listing.sources();
        List<AudioFiles.Skipped> skipped = new ArrayList<>(listing.skipped());
        List<String> ids = new ArrayList<>();
        List<float[]> means = new ArrayList<>();
        ExecutorService decoder = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "clmr-embed-decode");
            t.setDaemon(true);
            return t;
        });
        try (Progress progress = Progress.start("embed", sources.size(), Duration.ofSeconds(10))) {
            CompletableFuture<Decoded> next = sources.isEmpty() ? null : decodeLater(sources.get(0), sampleRate, ffmpeg, decoder);
            for (int i = 0; i < sources.size(); i++) {
                Decoded d = await(next);
                next = i + 1 < sources.size() ? decodeLater(sources.get(i + 1), sampleRate, ffmpeg, decoder) : null;
                AudioFiles.Source s = sources.get(i);
                String why = d.error() != null ? d.error() : d.samples().length < encoder.inputLength()
                        ? String.format(Locale.ROOT, "shorter than one window: %d samples (%.2f s), the encoder takes %d",
                        d.samples().length, d.samples().length / (double) sampleRate, encoder.inputLength()) : null;
                if (why != null) {
                    skipped.add(new AudioFiles.Skipped(s.file().toString(), why));
                } else {
                    ids.add(s.id());
                    means.add(mean(d.samples(), s.id(), encoder, batch));
                }
                progress.step();
            }
        } finally {
            decoder.shutdownNow();
        }
        return new Result(rows(ids, means, encoder.dim()), List.copyOf(skipped));
    }

    private static CompletableFuture<Decoded> decodeLater(AudioFiles.Source s, int sampleRate, Ffmpeg ffmpeg,
                                                          ExecutorService decoder) {
        return CompletableFuture.supplyAsync(() -> decode(s, sampleRate, ffmpeg), decoder);
    }

    private static Decoded await(CompletableFuture<Decoded> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while decoding audio");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UserError u) {
                throw u;
            }
            throw new IllegalStateException("decoding failed", e.getCause());
        }
    }

    private static Decoded decode(AudioFiles.Source s, int sampleRate, Ffmpeg ffmpeg) {
        try {
            if (Files.size(s.file()) == 0) {
                return new Decoded(null, "empty file (0 bytes)");
            }
        } catch (IOException e) {
            return new Decoded(null, "cannot read it: " + e.getMessage());
        }
        Ffmpeg.Result r = ffmpeg.decode(s.file(), sampleRate);
        if (!r.ok()) {
            return new Decoded(null, r.error());
        }
        ByteBuffer pcm = ByteBuffer.wrap(r.pcm16le()).order(ByteOrder.LITTLE_ENDIAN);
        float[] x = new float[pcm.remaining() / 2];
        for (int i = 0; i < x.length; i++) {
            x[i] = pcm.getShort() / 32768f;
        }
        return x.length == 0 ? new Decoded(null, "no audio samples decoded (empty or not audio)") : new Decoded(x, null);
    }

    /** The mean of the file's window features. */
    private static float[] mean(float[] samples, String id, WindowEncoder encoder, int batch) {
        ClipAudio one = new ClipAudio() {
            @Override
            public long length(int clip) {
                return samples.length;
            }

            @Override
            public void read(int clip, long offset, float[] dst, int dstOffset, int length) {
                System.arraycopy(samples, (int) offset, dst, dstOffset, length);
            }
        };
        return FeatureExtractor.extract(List.of(id), List.of(), new boolean[1][0], one, encoder, batch, n -> { })
                .features().meanFeature(0);
    }

    private static FeatureSet rows(List<String> ids, List<float[]> means, int dim) {
        float[] matrix = new float[ids.size() * dim];
        int[] starts = new int[ids.size() + 1];
        for (int c = 0; c < ids.size(); c++) {
            System.arraycopy(means.get(c), 0, matrix, c * dim, dim);
            starts[c + 1] = c + 1;
        }
        return new FeatureSet(ids, List.of(), dim, matrix, starts, new boolean[ids.size()][0]);
    }
}
