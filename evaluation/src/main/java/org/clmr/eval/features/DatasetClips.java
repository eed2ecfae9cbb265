package org.clmr.eval.features;

import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.Split;
import org.clmr.data.dataset.Track;

import java.util.ArrayList;
import java.util.List;

/**
 * The tracks of a packed dataset (all, or one split) as clips to extract features from: ids, 0/1 labels
 * over the dataset's tag vocabulary, and their audio read from the memory-mapped data file.
 */
public final class DatasetClips implements ClipAudio {
    private final PackedDataset dataset;
    private final List<Track> tracks;

    private DatasetClips(PackedDataset dataset, List<Track> tracks) {
        this.dataset = dataset;
        this.tracks = List.copyOf(tracks);
    }

    /** The tracks of one split. */
    public static DatasetClips of(PackedDataset dataset, Split split) {
        return new DatasetClips(dataset, dataset.index().tracks(split));
    }

    /** Every track of the dataset. */
    public static DatasetClips all(PackedDataset dataset) {
        return new DatasetClips(dataset, dataset.tracks());
    }

    public int size() {
        return tracks.size();
    }

    public List<String> ids() {
        List<String> ids = new ArrayList<>(tracks.size());
        for (Track t : tracks) {
            ids.add(t.id());
        }
        return ids;
    }

    public List<String> tags() {
        return dataset.index().tags();
    }

    /** [tracks][tags], true where the track carries the tag. */
    public boolean[][] labels() {
        int tagCount = tags().size();
        boolean[][] labels = new boolean[tracks.size()][tagCount];
        for (int i = 0; i < tracks.size(); i++) {
            for (int t : tracks.get(i).tags()) {
                labels[i][t] = true;
            }
        }
        return labels;
    }

    /** Windows of {@code windowLength} over all tracks (the progress bar's total). */
    public long windows(int windowLength) {
        long n = 0;
        for (Track t : tracks) {
            n += FeatureExtractor.windows(t.length(), windowLength);
        }
        return n;
    }

    @Override
    public long length(int clip) {
        return tracks.get(clip).length();
    }

    @Override
    public void read(int clip, long offset, float[] dst, int dstOffset, int length) {
        dataset.readCrop(tracks.get(clip), offset, dst, dstOffset, length);
    }
}
