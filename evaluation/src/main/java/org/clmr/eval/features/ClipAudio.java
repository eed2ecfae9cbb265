package org.clmr.eval.features;

/** Reads the audio of numbered clips (e.g. the tracks of a packed dataset). */
public interface ClipAudio {
    /** Samples of clip {@code clip}. */
    long length(int clip);

    /** Reads {@code length} samples of clip {@code clip} from {@code offset} into {@code dst[dstOffset..]}. */
    void read(int clip, long offset, float[] dst, int dstOffset, int length);
}
