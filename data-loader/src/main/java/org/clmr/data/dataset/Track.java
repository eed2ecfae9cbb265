package org.clmr.data.dataset;

import java.util.Arrays;
import java.util.Objects;

/**
 * One track of a packed dataset, as its index describes it.
 *
 * @param id     unique within the dataset (a relative path, a CSV path or a MagnaTagATune clip id)
 * @param source where the audio came from (provenance only; not part of the content hash)
 * @param offset first sample in the data file
 * @param length samples
 * @param tags   indices into the dataset's tag vocabulary, ascending
 * @param split  train, valid or test
 * @param song   the song the clip belongs to (MagnaTagATune), or null
 */
public record Track(String id, String source, long offset, int length, int[] tags, Split split, String song) {

    public Track {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(split, "split");
        tags = tags.clone();
        Arrays.sort(tags);
    }

    /** The tag indices (a copy). */
    @Override
    public int[] tags() {
        return tags.clone();
    }

    /** True when the track carries tag {@code tag}. */
    public boolean hasTag(int tag) {
        return Arrays.binarySearch(tags, tag) >= 0;
    }

    /** One past the last sample in the data file. */
    public long end() {
        return offset + length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Track t && id.equals(t.id) && Objects.equals(source, t.source) && offset == t.offset
                && length == t.length && Arrays.equals(tags, t.tags) && split == t.split && Objects.equals(song, t.song);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, offset, length, split) * 31 + Arrays.hashCode(tags);
    }

    @Override
    public String toString() {
        return "Track[" + id + ", offset=" + offset + ", length=" + length + ", tags=" + Arrays.toString(tags)
                + ", " + split.label() + (song == null ? "" : ", song=" + song) + "]";
    }
}
