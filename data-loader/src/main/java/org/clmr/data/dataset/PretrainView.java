package org.clmr.data.dataset;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What pre-training samples from a packed dataset: the tracks of the {@link Split#TRAIN} split only
 * (valid and test stay unseen for evaluation), as items numbered 0..size()-1 in storage order. With
 * {@code concatSongs}, consecutive train clips of the same song that lie back to back in the data file
 * form one item, as the paper does for MagnaTagATune (Appendix A); prepare stores a song's clips in
 * order and back to back. An item shorter than the crop is read zero-padded; {@link #describe} counts them.
 * Immutable and thread-safe.
 */
public final class PretrainView {
    private final PackedDataset dataset;
    private final long[] starts;
    private final long[] lengths;
    private final boolean concatSongs;

    private PretrainView(PackedDataset dataset, long[] starts, long[] lengths, boolean concatSongs) {
        this.dataset = dataset;
        this.starts = starts;
        this.lengths = lengths;
        this.concatSongs = concatSongs;
    }

    /** The pre-training view of {@code dataset}: its train tracks, or its train songs when {@code concatSongs}. */
    public static PretrainView of(PackedDataset dataset, boolean concatSongs) {
        List<long[]> items = new ArrayList<>();
        Track prev = null;
        for (Track t : dataset.tracks()) {
            if (t.split() != Split.TRAIN) {
                prev = null;
                continue;
            }
            boolean join = concatSongs && prev != null && t.song() != null && Objects.equals(t.song(), prev.song())
                    && prev.end() == t.offset();
            if (join) {
                items.get(items.size() - 1)[1] += t.length();
            } else {
                items.add(new long[] {t.offset(), t.length()});
            }
            prev = t;
        }
        long[] s = new long[items.size()];
        long[] l = new long[items.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = items.get(i)[0];
            l[i] = items.get(i)[1];
        }
        return new PretrainView(dataset, s, l, concatSongs);
    }

    /** The dataset underneath. */
    public PackedDataset dataset() {
        return dataset;
    }

    /** Number of items (tracks, or songs). */
    public int size() {
        return starts.length;
    }

    /** Samples in item {@code i}. */
    public long length(int i) {
        return lengths[i];
    }

    /** First sample of item {@code i} in the data file. */
    public long start(int i) {
        return starts[i];
    }

    /** Reads {@code length} samples of item {@code i} from {@code offset}, zero past its end. */
    public void readCrop(int i, long offset, float[] dst, int dstOffset, int length) {
        dataset.readRange(starts[i], lengths[i], offset, dst, dstOffset, length);
    }

    /** Items shorter than {@code cropLength} (read zero-padded). */
    public int paddedItems(int cropLength) {
        int n = 0;
        for (long l : lengths) {
            if (l < cropLength) {
                n++;
            }
        }
        return n;
    }

    /** One line for logs and reports: items, what they are, and how many are zero-padded. */
    public String describe(int cropLength) {
        return String.format(Locale.ROOT, "pre-training view of %s: %d %s from the train split, %d shorter than the "
                        + "crop of %d samples (zero-padded)", dataset.dir(), size(), concatSongs ? "songs" : "tracks",
                paddedItems(cropLength), cropLength);
    }
}
