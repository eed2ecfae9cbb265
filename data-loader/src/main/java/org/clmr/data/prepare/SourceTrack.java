package org.clmr.data.prepare;

import org.clmr.data.dataset.Split;

import java.nio.file.Path;

/**
 * An input file to decode, with what its listing says about it.
 *
 * @param file  the audio file
 * @param id    the track id in the dataset
 * @param tags  indices into the listing's tag vocabulary
 * @param split train, valid or test
 * @param song  the song (MagnaTagATune) or null
 */
public record SourceTrack(Path file, String id, int[] tags, Split split, String song) {
}
