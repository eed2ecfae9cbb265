package org.clmr.eval.features;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Turns clips into window features: each clip is cut into consecutive windows of the encoder's input
 * length (the last partial window dropped, as the reference implementation does), windows are encoded in
 * batches that may span clips, and each window's feature vector becomes a row of the {@link FeatureSet}.
 * A clip shorter than one window has no feature and is listed in {@link Result#tooShort()}. Caller's thread.
 */
public final class FeatureExtractor {
    private FeatureExtractor() {
    }

    /**
     * The features and the clips left out.
     *
     * @param features the clips with at least one window
     * @param tooShort ids of clips shorter than one window
     */
    public record Result(FeatureSet features, List<String> tooShort) {
    }

    /** Number of whole windows of {@code windowLength} in {@code length} samples. */
    public static int windows(long length, int windowLength) {
        return (int) Math.min(Integer.MAX_VALUE, length / windowLength);
    }

    /**
     * Extracts features.
     *
     * @param ids      clip ids (clip {@code i} is read as {@code audio.read(i, ...)})
     * @param tags     tag names
     * @param labels   [clips][tags]
     * @param audio    the clips' samples
     * @param encoder  the frozen encoder
     * @param batch    windows per encoder call
     * @param progress told the number of windows done after each batch
     */
    public static Result extract(List<String> ids, List<String> tags, boolean[][] labels, ClipAudio audio,
                                 WindowEncoder encoder, int batch, IntConsumer progress) {
        int length = encoder.inputLength();
        int dim = encoder.dim();
        List<Integer> kept = new ArrayList<>();
        List<String> tooShort = new ArrayList<>();
        long total = 0;
        for (int c = 0; c < ids.size(); c++) {
            int w = windows(audio.length(c), length);
            if (w == 0) {
                tooShort.add(ids.get(c));
            } else {
                kept.add(c);
                total += w;
            }
        }
        float[] features = new float[Math.toIntExact(Math.multiplyExact(total, (long) dim))];
        int[] starts = new int[kept.size() + 1];
        List<String> keptIds = new ArrayList<>(kept.size());
        boolean[][] keptLabels = new boolean[kept.size()][];
        float[] buffer = new float[batch * length];
        int buffered = 0;
        int row = 0;
        for (int k = 0; k < kept.size(); k++) {
            int c = kept.get(k);
            int w = windows(audio.length(c), length);
            starts[k + 1] = starts[k] + w;
            keptIds.add(ids.get(c));
            keptLabels[k] = labels[c];
            for (int i = 0; i < w; i++) {
                audio.read(c, (long) i * length, buffer, buffered * length, length);
                buffered++;
                if (buffered == batch) {
                    row = flush(encoder, buffer, buffered, features, row, dim, progress);
                    buffered = 0;
                }
            }
        }
        if (buffered > 0) {
            flush(encoder, buffer, buffered, features, row, dim, progress);
        }
        return new Result(new FeatureSet(keptIds, tags, dim, features, starts, keptLabels), List.copyOf(tooShort));
    }

    private static int flush(WindowEncoder encoder, float[] buffer, int count, float[] features, int row, int dim, IntConsumer progress) {
        float[] h = encoder.encode(buffer, count);
        System.arraycopy(h, 0, features, row * dim, count * dim);
        progress.accept(count);
        return row + count;
    }
}
